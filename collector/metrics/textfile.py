"""Metrics the service writes itself: `*.prom` files served with the collector's own.

Like node_exporter's textfile collector. A file is served whole or not at all: it must
parse with prometheus_client's parser, end in a newline, carry no client timestamps,
clash with no other metric, and survive a round trip through the OpenMetrics parser
(so one bad file can never make Prometheus reject the whole scrape). Files are re-read
only when their mtime or size changes, at most every `interval`, on the scrape thread.
Writers should write a temp file and rename it into place.

prometheus_client's parsers are the one part of it the collector still uses, imported
only when a file is parsed: without `metrics.textfile.paths` it is never loaded (its
import costs ~4 MiB and pulls in ssl, http.server and urllib; docs/decisions.md).
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Callable

from collector.metrics.config import TextfileConfig
from collector.metrics.core import Family, Registry
from collector.metrics.exposition import openmetrics_1_0_0
from collector.metrics.internal import REGISTRY, TEXTFILE_ERRORS

MTIME = "collector_textfile_mtime_seconds"
VALID = "collector_textfile_valid"


class TextfileError(Exception):
    """A file that will not be served; `reason` is the error counter's label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class _Loaded:
    __slots__ = ("clash_counted", "error", "families", "mtime", "version")

    def __init__(
        self,
        version: tuple[int, int],
        mtime: float,
        families: list[Family] | None,
        error: TextfileError | None,
    ) -> None:
        self.version = version
        self.mtime = mtime
        self.families = families
        self.error = error
        self.clash_counted = False


def parse_textfile(text: str, reserved: Callable[[str], bool]) -> list[Family]:
    """The families of one file, or TextfileError saying why it must be skipped."""
    from prometheus_client.openmetrics.parser import (
        text_string_to_metric_families as parse_openmetrics,
    )
    from prometheus_client.parser import text_string_to_metric_families as parse_text

    if text and not text.endswith("\n"):
        raise TextfileError("parse", "does not end in a newline (written in place?)")
    typed = [ln.split()[2:3] for ln in text.splitlines() if ln.startswith("# TYPE ")]
    if len(typed) != len({tuple(t) for t in typed}):
        # prometheus_client lets the last TYPE win and renames samples; Prometheus refuses.
        raise TextfileError("conflict", "a metric has two TYPE lines")
    try:
        parsed = list(parse_text(text))
    except (ValueError, IndexError, KeyError) as e:
        raise TextfileError("parse", str(e)[:200]) from None
    families: dict[str, Family] = {}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for fam in parsed:
        merged = families.get(fam.name)
        if merged is None:
            merged = families[fam.name] = Family(fam.name, fam.documentation, fam.type)
        elif merged.type != fam.type:
            raise TextfileError("conflict", f"{fam.name}: declared as {merged.type} and {fam.type}")
        for s in fam.samples:
            if s.timestamp is not None:
                raise TextfileError("timestamp", f"{s.name}: client-side timestamps not allowed")
            if reserved(s.name) or reserved(fam.name):
                raise TextfileError("conflict", f"{s.name}: clashes with the collector's metrics")
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in seen:
                raise TextfileError("duplicate", f"{s.name}: sample appears twice")
            seen.add(key)
            merged.add_sample(s.name, s.labels, s.value)  # the text format has no exemplars
    # A TYPE line without samples (e.g. `# TYPE x counter` above `x_total 1`) says nothing.
    result = [f for f in families.values() if f.samples]
    try:
        list(parse_openmetrics(openmetrics_1_0_0(result).decode()))  # type: ignore[no-untyped-call]
    except (ValueError, IndexError, KeyError) as e:
        raise TextfileError("invalid", str(e)[:200]) from None
    return result


class TextfileCollector:
    def __init__(
        self,
        cfg: TextfileConfig,
        registry: Registry = REGISTRY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cfg = cfg
        self._registry: Registry | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._files: dict[str, _Loaded] = {}
        self._served: list[Family] = []
        self._clashing: set[str] = set()
        self._next_scan = 0.0
        if cfg.paths:
            registry.register(self)
            self._registry = registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.unregister(self)
            self._registry = None

    def describe(self) -> list[Family]:
        return self._own_families({}, set())

    def collect(self) -> list[Family]:
        with self._lock:
            now = self._clock()
            if now >= self._next_scan:
                self._scan()
                self._next_scan = now + float(self._cfg.interval)
            return self._own_families(self._files, self._clashing) + self._served

    def _own_families(self, files: dict[str, _Loaded], clashing: set[str]) -> list[Family]:
        mtime = Family(MTIME, "Modification time of each textfile found (Unix seconds).", "gauge")
        valid = Family(
            VALID, "1 when the textfile is served, 0 when it was skipped as invalid.", "gauge"
        )
        for path, loaded in files.items():
            mtime.add_sample(MTIME, {"file": path}, loaded.mtime)
            ok = loaded.error is None and path not in clashing
            valid.add_sample(VALID, {"file": path}, 1.0 if ok else 0.0)
        return [mtime, valid]

    def _reserved(self) -> Callable[[str], bool]:
        # Every registered name (with its _total, _bucket, ... forms), and our own two.
        names = set(self._registry.names()) if self._registry is not None else set()
        names.update((MTIME, VALID))
        return names.__contains__

    def _scan(self) -> None:
        paths = sorted({p for pattern in self._cfg.paths for p in glob.glob(pattern)})
        reserved = self._reserved()
        files: dict[str, _Loaded] = {}
        for path in paths:
            loaded = self._load(path, self._files.get(path), reserved)
            if loaded is not None:
                files[path] = loaded
        self._files = files
        self._served, self._clashing = self._merge(files)

    def _load(
        self, path: str, before: _Loaded | None, reserved: Callable[[str], bool]
    ) -> _Loaded | None:
        try:
            st = os.stat(path)
        except OSError:
            return None  # gone between glob and stat
        if not os.path.isfile(path):
            return None
        version = (st.st_mtime_ns, st.st_size)
        if before is not None and before.version == version:
            return before
        try:
            if st.st_size > self._cfg.max_file_bytes:
                raise TextfileError("too_large", f"{st.st_size} bytes")
            with open(path, "rb") as f:
                data = f.read(self._cfg.max_file_bytes + 1)
                after = os.fstat(f.fileno())
            if (after.st_mtime_ns, after.st_size) != version:
                return before  # being rewritten in place: try again on the next scan
            families = parse_textfile(data.decode("utf-8"), reserved)
            return _Loaded(version, st.st_mtime, families, None)
        except UnicodeDecodeError:
            err = TextfileError("parse", "not UTF-8")
        except OSError as e:
            err = TextfileError("read", e.strerror or "read failed")
        except TextfileError as e:
            err = e
        TEXTFILE_ERRORS.labels(err.reason).inc()
        return _Loaded(version, st.st_mtime, None, err)

    def _merge(self, files: dict[str, _Loaded]) -> tuple[list[Family], set[str]]:
        """Join families across files; a later file that clashes is skipped whole."""
        merged: dict[str, Family] = {}
        clashing: set[str] = set()
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        for path, loaded in files.items():
            if loaded.families is None:
                continue
            keys = {
                (s.name, tuple(sorted(s.labels.items())))
                for fam in loaded.families
                for s in fam.samples
            }
            clash = not keys.isdisjoint(seen) or any(
                fam.name in merged and merged[fam.name].type != fam.type for fam in loaded.families
            )
            if clash:
                clashing.add(path)
                if not loaded.clash_counted:  # once per version of the file, like other errors
                    loaded.clash_counted = True
                    TEXTFILE_ERRORS.labels("conflict").inc()
                continue
            seen |= keys
            for fam in loaded.families:
                target = merged.get(fam.name)
                if target is None:
                    target = merged[fam.name] = Family(fam.name, fam.documentation, fam.type)
                target.samples.extend(fam.samples)
        return list(merged.values()), clashing
