"""`format: logfmt` — `key=value key2="quoted value" flag` lines (Heroku, Go's slog/logrus).

Values stay strings (logfmt has no types; use `types` hints to convert); a bare key is
`true`, as in the logfmt convention (but a line of bare words alone is not logfmt);
quoted values are unescaped (`\\"`, `\\\\`, `\\n`, `\\t`, `\\uXXXX`). A line with
anything that is not a pair (a stray quote, an unclosed string) is not guessed at: it is
shipped whole as `message` with `_parse_error`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from collector.parse.config import ParserOptions
from collector.parse.eventtime import EventTimes
from collector.parse.fields import apply_types
from collector.parse.jsonlines import JSON_TIME_KEYS
from collector.parse.result import ParseResult, unparsed

_PAIR = r'([^\s="]+)(?:=(?:"((?:[^"\\]|\\.)*)"|([^\s"]*)))?'
PAIR = re.compile(_PAIR)
# Pairs need whitespace between them, so the match is unambiguous (no backtracking blow-up).
LINE = re.compile(rf"\s*{_PAIR}(?:\s+{_PAIR})*\s*")
_STRING = msgspec.json.Decoder(str)


def _unquote(value: str) -> str:
    if "\\" not in value:
        return value
    try:
        return _STRING.decode(('"' + value + '"').encode("utf-8", "surrogatepass"))
    except Exception:  # an escape JSON does not know: keep it as written
        return value


def pairs(text: str) -> dict[str, Any] | None:
    """The pairs of a logfmt line, or None when it is not one (bare words alone are not)."""
    if "=" not in text or LINE.fullmatch(text) is None:
        return None
    record: dict[str, Any] = {}
    for m in PAIR.finditer(text):
        key, quoted, bare = m.groups()
        if quoted is not None:
            record[key] = _unquote(quoted)
        else:
            record[key] = True if bare is None else bare
    return record


class LogfmtParser:
    def __init__(self, options: ParserOptions) -> None:
        self._message_key = options.message_key
        self._types = options.types
        self._times = EventTimes(JSON_TIME_KEYS, options)

    def parse(self, lines: list[bytes]) -> ParseResult:
        errors: dict[str, int] = {}
        key = self._message_key
        records: list[dict[str, Any]] = []
        append = records.append
        for line in lines:
            text = line.decode("utf-8", "replace")
            record = pairs(text)
            append(record if record else unparsed(text, "no_match", key, errors))
        if self._types:
            apply_types(records, self._types)
        return ParseResult(records, self._times.of(records), errors)
