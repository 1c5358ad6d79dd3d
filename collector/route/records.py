"""From a `LineBatch` to redacted records grouped by tag: parse, flag, redact, enrich.

This is the per-source half of the hot path. The redactor's pre-scan runs on the raw
lines first; only the lines it flags are walked after parsing, and nothing leaves this
module unredacted: if the scan or the walk fails, the batch is redacted whole.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec

from collector.flow import FLAG_PARTIAL, FLAG_TRUNCATED, LineBatch
from collector.parse import PARSE_ERROR_KEY, Parser, ParseResult, make_parser
from collector.redact import Redactor
from collector.route.config import MetadataConfig, SourceConfig
from collector.route.counters import UNCOUNTED, RouteCounters
from collector.route.tag import TagTemplate

log = logging.getLogger("collector.route")

Record = dict[str, Any]

# Paths remembered with their redacted form; a source rarely sees more files than this.
_PATH_CACHE_LIMIT = 4096


def beside(record: Record, key: str) -> str:
    """Where our `key` goes in a record whose app wrote `key` itself: `_key` (`__key`, ...).

    The app's own field is the record's truth and is never overwritten; ours sits beside
    it under the first free name with one more leading underscore.
    """
    while key in record:
        key = "_" + key
    return key


def _parser(cfg: SourceConfig) -> Parser:
    """The source's parser; raw mode ships each line as text under `log`, the way Fluent Bit
    does without a parser. Raises ValueError naming the source and the key."""
    fmt, options = cfg.format, cfg.parser
    if cfg.mode == "raw":
        fmt, options = "text", msgspec.structs.replace(options, message_key="log")
    try:
        return make_parser(fmt, options)
    except ValueError as e:
        raise ValueError(f"sources[{cfg.name}].{e}") from None


class SourceRoute:
    """How the batches of one source become tagged, redacted records."""

    def __init__(
        self,
        cfg: SourceConfig,
        redactor: Redactor,
        metadata_cfg: MetadataConfig,
        pod_meta: dict[str, Any],
        counters: RouteCounters = UNCOUNTED,
    ) -> None:
        self.cfg = cfg
        self.parser: Parser = _parser(cfg)
        self.redactor = redactor
        self.tag = TagTemplate(cfg.tag, cfg.name)
        self.meta_key = metadata_cfg.key if metadata_cfg.enabled and pod_meta else None
        self.pod_meta = pod_meta
        self.file_key = metadata_cfg.file_key if metadata_cfg.enabled else None
        self._tag_cache: dict[str, str | None] = {}
        self._shown: dict[str, str] = {}
        # A regex parser names its own keys: a `cvv` group holds "123", which no scan of the
        # raw line can tell from any number, so such a source walks every record.
        self.walk_all = bool(
            cfg.format == "regex"
            and cfg.parser.regex
            and any(redactor.key_is_sensitive(g) for g in re.compile(cfg.parser.regex).groupindex)
        )
        # JSON records are the lines' own objects (no `types` conversion): the redactor
        # may take its shortcut from the raw line (redact/shortcut.py).
        self.json_as_written = cfg.mode != "raw" and cfg.format == "json" and not cfg.parser.types
        self._m = counters
        self._lines_read = counters.lines_read.labels(cfg.name)
        self._bytes_read = counters.bytes_read.labels(cfg.name)
        self._parsed = counters.records_parsed.labels(cfg.name)

    def records(self, batch: LineBatch) -> tuple[list[Record], list[int] | None]:
        """Parsed, flagged, redacted and enriched records of `batch`, with event times."""
        lines = batch.lines
        self._lines_read.inc(len(lines))
        self._bytes_read.inc(batch.nbytes)
        try:
            flagged = list(range(len(lines))) if self.walk_all else self.redactor.scan(lines)
        except Exception as e:  # fail closed: walk every record
            # The exception's text could quote a line; only its type is logged.
            log.error(
                "redaction pre-scan failed; walking every record", extra={"error": type(e).__name__}
            )
            flagged = list(range(len(lines)))
        try:
            result = self.parser.parse(lines)
        except Exception as e:  # a parser bug must not stop the source: ship text, walk all
            log.error(
                "parser failed; shipping the batch as text",
                extra={"source": self.cfg.name, "error": type(e).__name__},
            )
            result = self._as_text(lines)
            flagged = list(range(len(lines)))
        records, times = result.records, result.times
        self._parsed.inc(len(records))
        for reason, count in result.errors.items():
            self._m.parse_errors.labels(self.cfg.name, reason).inc(count)
        if batch.flags is not None:
            self._apply_flags(records, batch.flags)
        if flagged:
            self._m.records_walked.inc(len(flagged))
            if self.json_as_written and len(records) == len(lines):
                flagged = self.redactor.redact_json(lines, records, flagged)
            # One trigger pass and one counter update for the batch, not one per record.
            self.redactor.redact_records(records, flagged)
        self._enrich(records, batch.path)
        return records, times

    def _as_text(self, lines: list[bytes]) -> ParseResult:
        key = self.cfg.parser.message_key
        records: list[Record] = [
            {key: line.decode("utf-8", "replace"), PARSE_ERROR_KEY: "internal"} for line in lines
        ]
        return ParseResult(records, None, {"internal": len(lines)})

    def _apply_flags(self, records: list[Record], flags: list[int]) -> None:
        truncated = partial = 0
        for record, flag in zip(records, flags, strict=True):
            if flag & FLAG_TRUNCATED:
                record["_truncated"] = True
                truncated += 1
            if flag & FLAG_PARTIAL:
                record["_partial"] = True
                partial += 1
        if truncated:
            self._m.lines_truncated.labels(self.cfg.name).inc(truncated)
        if partial:
            self._m.partial_lines.labels(self.cfg.name).inc(partial)

    def shown_path(self, path: str) -> str:
        """`path` as it may leave the pod: a file named after a card is redacted like a line.

        Path-derived values (the `file` field, `${file}` in tags) are added after the
        records were redacted, so they pass through the redactor here, once per file.
        """
        shown = self._shown.get(path)
        if shown is None:
            if len(self._shown) >= _PATH_CACHE_LIMIT:
                self._shown.clear()
            shown = self._shown[path] = self.redactor.redact_text(path)
        return shown

    def _enrich(self, records: list[Record], path: str) -> None:
        """Our metadata beside the app's fields, never over them (see `beside`)."""
        meta_key, file_key = self.meta_key, self.file_key
        if meta_key is not None:
            meta = self.pod_meta
            for record in records:
                record[beside(record, meta_key) if meta_key in record else meta_key] = meta
        if file_key is not None:
            shown = self.shown_path(path)
            for record in records:
                record[beside(record, file_key) if file_key in record else file_key] = shown

    def groups(
        self, path: str, records: list[Record], times: list[int] | None
    ) -> list[tuple[str, list[Record], list[int] | None]]:
        """Records split by tag; one group when the tag does not depend on records."""
        shown = self.shown_path(path)
        if shown not in self._tag_cache:
            self._tag_cache[shown] = self.tag.for_file(shown)
        tag = self._tag_cache[shown]
        if tag is not None:
            return [(tag, records, times)]
        by_tag: dict[str, tuple[list[Record], list[int]]] = {}
        for i, record in enumerate(records):
            recs, tms = by_tag.setdefault(self.tag.render(shown, record), ([], []))
            recs.append(record)
            tms.append(times[i] if times is not None else 0)
        return [(t, recs, tms) for t, (recs, tms) in by_tag.items()]
