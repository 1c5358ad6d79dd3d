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

from collector.parse.jsonlines import KeyedParser
from collector.parse.result import ParseResult, unparsed

# key, "=", opening quote, quoted value, bare value: findall returns "" for a group that
# did not take part, so the "=" and the quote are captured to tell `k`, `k=`, `k=""` apart.
_PAIR = r'([^\s="]+)(?:(=)(?:(")((?:[^"\\]|\\.)*)"|([^\s"]*)))?'
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
    if "=" not in text:
        return None
    if "\\" in text:
        return _pairs_with_escapes(text)
    # No escapes: quotes alternate, so splitting on them gives outside, inside, outside, ...
    # This is several times faster than the regex, which stays the reference for escapes.
    parts = text.split('"')
    if len(parts) % 2 == 0:
        return None  # an unclosed quote
    record: dict[str, Any] = {}
    last = len(parts) - 1
    for i in range(0, last + 1, 2):
        outside = parts[i]
        if i and outside and not outside[0].isspace():
            return None  # `k="v"x`: something glued to a closing quote
        tokens = outside.split()
        quoted_key = None
        if i < last:  # a quoted value follows: the last token must be `key=`, glued to it
            if not outside or outside[-1] != "=" or not tokens or len(tokens[-1]) < 2:
                return None
            quoted_key = tokens.pop()[:-1]
            if "=" in quoted_key:
                return None
        for token in tokens:
            key, eq, value = token.partition("=")
            if not key:
                return None
            record[key] = value if eq else True
        if quoted_key is not None:
            record[quoted_key] = parts[i + 1]
    return record


def _pairs_with_escapes(text: str) -> dict[str, Any] | None:
    if LINE.fullmatch(text) is None:
        return None
    return {
        k: (_unquote(q) if quote else b) if eq else True
        for k, eq, quote, q, b in PAIR.findall(text)
    }


class LogfmtParser(KeyedParser):
    def parse(self, lines: list[bytes]) -> ParseResult:
        errors: dict[str, int] = {}
        key = self._message_key
        records: list[dict[str, Any]] = []
        append = records.append
        for line in lines:
            text = line.decode("utf-8", "replace")
            record = pairs(text)
            append(record if record else unparsed(text, "no_match", key, errors))
        return self._result(records, errors)
