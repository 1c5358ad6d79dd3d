"""The pre-scan: which raw lines of a batch may hold card data or SAD.

The whole batch is joined and searched by one compiled pattern in C (google-re2 when
installed, else `re`); Python only runs once per *flagged* line to map a match position to
its line and jump to the next line. The pattern is the careful pass's own trigger plus
every JSON escape that could hide a digit, separator or letter from it, so a line the
careful pass would change is always flagged (tests/redact/test_properties.py drives
scan + walk together to hold that).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, Protocol

from collector.redact.cards import FIRST_DIGITS
from collector.redact.keys import names_pattern
from collector.redact.text import DIGIT, SEP

log = logging.getLogger("collector.redact")

# \u00XX escapes of digits, of the separators and of ASCII letters: a JSON writer may use
# any of them, and the decoded value then holds what the raw bytes did not show.
ESCAPES = r"\\u00(?:3[0-9]|2[0bBdDeE]|[4-7][0-9a-fA-F])"


class _Matcher(Protocol):
    def search(self, text: Any, pos: int = ...) -> Any: ...


def trigger_source(names: Iterable[str]) -> str:
    """Regex source (ASCII only) shared by the pre-scan and the careful pass's gate.

    Each branch covers what one careful pass can change (text.py), so a string with no
    match is left untouched by all of them:
    - a bare PAN starts a digit group (after a non-digit or an encoded separator) with a
      brand's first digit and has 12+ digit units: epoch ms/us/ns (leading 1) never match;
    - track 1/2 shapes and EMV tag 57: 12 digits before `=`, `D` or `^`, or after `B`;
    - EMV tag 5A: `5A`, a length byte, 12 digits;
    - an ISO 8583 message: MTI, bitmap(s), then LL and 12 digits; a field-2 label or key
      (`DE2`, `F2`, `"2"`) followed by LL and 12 digits;
    - a float in exponent form large enough to be a card;
    - a sensitive or expiry key name.
    """
    first = f"[{FIRST_DIGITS}]"
    bound = r"(?:^|[^0-9\n]|%2[0bBdDeE]|\\u002[0bBdDeE]|\\x2[0bBdDeE])"
    esc_first = rf"(?:\\+u003{first}|%3{first}|\\+x3{first})"
    branches = [
        f"(?:{bound}{first}|{esc_first})(?:{SEP}?{DIGIT}){{11}}",
        r"[0-9]{12}[=Dd^]|B[0-9]{12}",
        r"5[Aa][0-9A-Fa-f]{2}[0-9]{12}",
        r"[0-9]{4}[0-9A-Fa-f]{16}(?:[0-9A-Fa-f]{16})?[0-9]{14}",
        r"(?:^|[^0-9\n])[ _.#\-]{0,2}0{0,2}2[^0-9A-Za-z\n]{0,8}[0-9]{14}",
        r"[0-9][eE]\+?1[1-8]",
        names_pattern(names, scan_style=True),
    ]
    return "|".join(f"(?:{b})" for b in branches)


def compile_scan(source: str, engine: str) -> tuple[_Matcher, str]:
    """The compiled bytes pattern and the engine that runs it."""
    pattern = f"(?m)(?:{source})|{ESCAPES}".encode()
    if engine in ("auto", "re2"):
        try:
            import re2  # type: ignore[import-not-found,import-untyped,unused-ignore]

            return re2.compile(pattern), "re2"
        except ImportError:
            if engine == "re2":
                raise ValueError("redact.scan_engine re2: google-re2 is not installed") from None
    return re.compile(pattern), "re"


def compile_custom_scan(patterns: list[str]) -> re.Pattern[bytes] | None:
    """Custom rules over raw bytes; a line with any backslash escape is always flagged.

    Returns None when a rule cannot run on bytes: the caller then flags every line.
    """
    if not patterns:
        return None
    try:
        return re.compile(b"|".join([b"\\\\", *(b"(?:" + p.encode() + b")" for p in patterns)]))
    except re.error:
        log.warning("a custom redaction rule cannot pre-scan bytes; every line is walked")
        return None


def flagged_lines(matcher: _Matcher, lines: list[bytes]) -> list[int]:
    """Indices of the lines that hold a match of `matcher`, in order, each once."""
    if not lines:
        return []
    buf = b"\n".join(lines)
    simple = buf.count(b"\n") == len(lines) - 1  # no line holds a newline of its own
    if not simple:
        return _flagged_by_offsets(matcher, buf, lines)
    out: list[int] = []
    search = matcher.search
    count = buf.count
    find = buf.find
    line = 0  # index of the line that starts at `pos`
    pos = 0
    while True:
        m = search(buf, pos)
        if m is None:
            return out
        start, end = m.start(), m.end()
        first = line + count(b"\n", pos, start)
        last = first + count(b"\n", start, max(start, end - 1))
        out.extend(range(first, last + 1))
        nl = find(b"\n", max(start, end - 1))
        if nl < 0:
            return out
        pos = nl + 1
        line = last + 1


def _flagged_by_offsets(matcher: _Matcher, buf: bytes, lines: list[bytes]) -> list[int]:
    from bisect import bisect_right
    from itertools import accumulate

    ends = list(accumulate(len(line) + 1 for line in lines))
    out: list[int] = []
    pos = 0
    while pos < len(buf):
        m = matcher.search(buf, pos)
        if m is None:
            break
        first = bisect_right(ends, m.start())
        last = bisect_right(ends, max(m.start(), m.end() - 1))
        out.extend(i for i in range(first, last + 1) if not out or i > out[-1])
        pos = ends[min(last, len(ends) - 1)]
    return out
