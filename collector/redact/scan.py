"""The pre-scan: which raw lines of a batch may hold card data or SAD.

The C extension (`_prefilter.c`) answers, with the rules of the careful pass made wider
(detect.py: chains of digit groups in any grouping, structure, labels, what hides digits),
handed in from the same tables (cards.py, keys.py, normalize.py). Without it (a source
tree used without `pip install`) every line is walked: slower, never less safe.
Operators' custom rules have their own scan here (`compile_custom_scan`).
"""

from __future__ import annotations

import logging
import os
import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

from collector.redact.cards import BRANDS, MAX_GAP, SEPARATORS
from collector.redact.keys import CARD_WORDS, CARD_WORDS_WHOLE, words
from collector.redact.normalize import entity_names, unicode_ranges

log = logging.getLogger("collector.redact")


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
    ISO_LABEL = 512
    ALL = 1023


# COLLECTOR_PRESCAN=none runs as a source install without the C extension does (every line
# walked), =scalar the C's byte loop (as on ARM): CI holds both forms to the same tests.
_FORCED = os.environ.get("COLLECTOR_PRESCAN", "")


def prefilter_form() -> str:
    """How the C pre-scan runs on this CPU: `avx2`, `sse2`, `scalar`, or `none` (not built)."""
    if _FORCED == "none":
        return "none"
    try:
        from collector.redact import _prefilter
    except ImportError:
        return "none"
    return _prefilter.FORM


def load_prefilter(names: Iterable[str]) -> Any | None:
    """The C pre-scan for these key names and cards.py's brand table; None when the
    extension is not built (a source tree used without `pip install`): the pre-scan then
    runs on the regex engine alone."""
    if _FORCED == "none":
        return None
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
    return Prefilter(
        [list(name) for name in spelled if name],
        ranges,
        card_words,
        whole,
        SEPARATORS.encode(),  # (a raw JSON line's `\t` next to a digit is an escape to it)
        MAX_GAP,
        unicode_ranges(),
        [name.encode() for name in entity_names()],
    )


# Syntax whose meaning depends on what surrounds the match (anchors, word boundaries,
# look-arounds): on a raw line it does not see the string the walk will test (`^secret$`
# matches a value, never the JSON line around it), so such a rule has every line walked.
_CONTEXT_SYNTAX = re.compile(r"(?<![\[\\])\^|(?<!\\)\$|\\[AZzbBG]|\(\?<?[=!]")


def compile_custom_scan(patterns: list[str]) -> re.Pattern[bytes] | None:
    """Custom rules over raw bytes; a line with any backslash escape is always flagged.

    Returns None when a rule cannot run on raw bytes (not a bytes pattern, or one whose
    match depends on its surroundings): the caller then flags every line.
    """
    if not patterns:
        return None
    if any(_CONTEXT_SYNTAX.search(p) for p in patterns):
        return None
    try:
        return re.compile(b"|".join([b"\\\\", *(b"(?:" + p.encode() + b")" for p in patterns)]))
    except re.error:
        log.warning("a custom redaction rule cannot pre-scan bytes; every line is walked")
        return None


def flagged_lines(matcher: re.Pattern[bytes], lines: list[bytes]) -> list[int]:
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
