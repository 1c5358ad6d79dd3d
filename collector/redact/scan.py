"""The pre-scan: which raw lines of a batch may hold card data or SAD.

The whole batch is joined and searched in C (google-re2 when installed, else `re`); Python
only runs once per *candidate* line. The full pattern is the careful pass's own trigger plus
every JSON escape that could hide a digit, separator or letter from it, so a line the
careful pass would change is always flagged (tests/redact/test_properties.py drives
scan + walk together to hold that). It runs in two steps (`TwoStage`): a cheap pattern
that every full match contains picks candidate lines over the whole batch, and the full
pattern runs only on those lines, so the result is the full pattern's, for a fraction of
its cost (tests/redact/test_scan.py compares the two forms).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from collector.redact.patterns import ESCAPES, Matcher, prefilter_source, trigger_source

log = logging.getLogger("collector.redact")

# RE2's default (8 MiB) lets the full pattern's DFA cache fill and be rebuilt over a flood.
RE2_MAX_MEM = 32 << 20


def resolve_engine(engine: str) -> str:
    """`re2` when asked for or (auto) when google-re2 imports, else `re`."""
    if engine == "re":
        return "re"
    try:
        import re2  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: F401
    except ImportError:
        if engine == "re2":
            raise ValueError("redact.scan_engine re2: google-re2 is not installed") from None
        return "re"
    return "re2"


class _Span:
    __slots__ = ("_end", "_start")

    def __init__(self, start: int, end: int) -> None:
        self._start = start
        self._end = end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


class _Re2Bytes:
    """google-re2 over bytes without its Python-level generator: one C call per search.

    The wrapper's own `search` costs several microseconds per call in pure Python; the
    careful walk calls the trigger once per record, so that overhead would dominate.
    """

    def __init__(self, compiled: Any, anchor: Any) -> None:
        self._match = compiled._regexp.Match
        self._anchor = anchor

    def search(self, text: bytes, pos: int = 0, endpos: int | None = None) -> _Span | None:
        span = self._match(self._anchor, text, pos, len(text) if endpos is None else endpos)[0]
        return None if span[0] < 0 else _Span(span[0], span[1])


class TwoStage:
    """The full pattern's matches, found by running it only on the lines `cheap` hits.

    Sound when every match of `full` contains a match of `cheap` and neither spans a
    newline: a line without a cheap match then has no full match. A found match is the
    full pattern's own (its span), searched with the whole text as context (`^`, `$`).
    """

    def __init__(self, cheap: Matcher, full: Matcher) -> None:
        self.cheap = cheap
        self.full = full

    def search(self, text: bytes, pos: int = 0, endpos: int | None = None) -> Any:
        end = len(text) if endpos is None else endpos
        cheap = self.cheap.search
        full = self.full.search
        while pos <= end:
            hit = cheap(text, pos, end)
            if hit is None:
                return None
            at = hit.start()
            nl = text.rfind(b"\n", pos, at)
            line_start = pos if nl < 0 else nl + 1
            line_end = text.find(b"\n", at, end)
            if line_end < 0:
                line_end = end
            m = full(text, line_start, line_end)
            if m is not None:
                return m
            pos = line_end + 1
        return None


def compile_engine(pattern: str | bytes, engine: str) -> Matcher:
    if engine == "re2":
        import re2  # type: ignore[import-not-found,import-untyped,unused-ignore]

        options = re2.Options()
        options.max_mem = RE2_MAX_MEM
        compiled = re2.compile(pattern, options)
        if isinstance(pattern, bytes) and hasattr(compiled, "_regexp"):
            return _Re2Bytes(compiled, re2._Anchor.UNANCHORED)
        matcher: Matcher = compiled
        return matcher
    flags = re.ASCII if isinstance(pattern, str) else 0
    return re.compile(pattern, flags)


def compile_full_scan(names: Iterable[str], engine: str) -> Matcher:
    """The bytes pattern of the pre-scan: the trigger plus every hiding JSON escape."""
    source = trigger_source(names, engine)
    return compile_engine(f"(?m)(?:{source})|{ESCAPES}".encode(), engine)


def compile_scan(names: Iterable[str], engine: str) -> Matcher:
    """The pre-scan's matcher: the full pattern, run only where the prefilter hits."""
    names = list(names)
    cheap = compile_engine(prefilter_source(names, engine).encode(), engine)
    return TwoStage(cheap, compile_full_scan(names, engine))


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


def flagged_lines(matcher: Matcher, lines: list[bytes]) -> list[int]:
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


def _flagged_by_offsets(matcher: Matcher, buf: bytes, lines: list[bytes]) -> list[int]:
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
