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
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

from collector.redact.cards import BRANDS
from collector.redact.keys import CARD_WORDS, CARD_WORDS_WHOLE, words
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


class Reason:
    """The bits of `Prefilter.reasons`: which rule of _prefilter.c holds in a string, so
    the careful pass runs only the passes that can change it (text.py)."""

    CARD = 1
    TRACK1 = 2
    TRACK2 = 4
    EMV = 8
    LLVAR = 16
    ISO_MESSAGE = 32
    ESCAPE = 64
    BIG_FLOAT = 128
    NAME = 256


def prefilter_form() -> str:
    """How the C pre-scan runs on this CPU: `avx2`, `sse2`, `scalar`, or `none` (not built)."""
    try:
        from collector.redact import _prefilter
    except ImportError:
        return "none"
    return _prefilter.FORM


def load_prefilter(names: Iterable[str]) -> Any | None:
    """The C pre-scan for these key names and cards.py's brand table; None when the
    extension is not built (a source tree used without `pip install`): the pre-scan then
    runs on the regex engine alone."""
    try:
        from collector.redact._prefilter import Prefilter
    except ImportError:
        return None
    spelled = sorted({tuple(w.encode() for w in words(name)) for name in names})
    ranges = [
        (int(lo), int(hi), len(lo), sum(1 << n for n in brand.lengths))
        for brand in BRANDS
        for lo, hi in brand.prefixes
    ]
    card_words = [w.encode() for w in CARD_WORDS]
    whole = [w.encode() for w in CARD_WORDS_WHOLE]
    return Prefilter([list(name) for name in spelled if name], ranges, card_words, whole)


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


def compile_scan(names: Iterable[str], engine: str) -> TwoStage:
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
    """Indices of the lines that hold a match of `matcher`, in order, each once.

    Matches map to lines by offsets (bisect on where each line ends), so the cost in
    Python is per match, not per byte: no newline counting between matches, and lines that
    hold newlines of their own need no special case.
    """
    if not lines:
        return []
    buf = b"\n".join(lines)
    # ends[i]: offset just past line i and its joining newline (C-level, no Python per line)
    ends = list(accumulate(map((1).__add__, map(len, lines))))
    search = matcher.search
    out: list[int] = []
    pos = 0
    size = len(buf)
    while pos <= size:
        m = search(buf, pos)
        if m is None:
            break
        start = m.start()
        first = bisect_right(ends, start)
        last = bisect_right(ends, max(start, m.end() - 1))
        if out and first <= out[-1]:
            first = out[-1] + 1
        out.extend(range(first, last + 1))
        pos = ends[last] if last < len(ends) else size + 1
    return out
