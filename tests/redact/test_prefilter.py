"""The pre-scan's first step in C: never misses a line the pattern would flag.

`_prefilter.c` answers "could this line hold a match of `prefilter_source`?" and the full
pattern then runs on its candidates only, so a candidate it misses is card data shipped
unredacted. These tests hold it against the pattern itself (RE2 and `re`), its vector form
against its one-byte-at-a-time form, and `Redactor.scan` against the pure-regex scan.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from collector.redact.keys import EXPIRY_NAMES, SAD_NAMES
from collector.redact.patterns import prefilter_source
from collector.redact.scan import compile_engine, flagged_lines, load_prefilter

NAMES = [*SAD_NAMES, *EXPIRY_NAMES]
EXTRA = ["x_id", "PAN_ref", "zz"]  # a one-letter first word, an acronym, a short word
PREFILTER = load_prefilter(NAMES)
PREFILTER_EXTRA = load_prefilter([*NAMES, *EXTRA])
PATTERNS = {
    engine: compile_engine(prefilter_source(NAMES, engine).encode(), engine)
    for engine in ("re", "re2")
}
PATTERN_EXTRA = compile_engine(prefilter_source([*NAMES, *EXTRA], "re2").encode(), "re2")

pytestmark = pytest.mark.skipif(PREFILTER is None, reason="the C extension is not built")

# Pieces that reach every branch of the pattern and every state of the C loop: digits
# and separators in chains, escapes, exponents, key names in any case and glued to
# letters or digits, hex runs, newlines, non-ASCII bytes.
_PIECES = [
    *"0123456789",
    *"4455",
    " ",
    "-",
    ".",
    "+",
    "  ",
    "--",
    "%",
    "%2",
    "%3",
    "%20",
    "%34",
    "\\",
    "\\u",
    "\\u0034",
    "\\\\x3",
    "e",
    "E",
    "e+1",
    "e1",
    "E+15",
    "1.5e1",
    "abc",
    "deadbeef",
    "x",
    "Q",
    "_",
    "\n",
    '"',
    ":",
    "é",
    "cvv",
    "CVC",
    "Cvv",
    "cardPin",
    "pin",
    "spin",
    "pinned",
    "security_code",
    "security__code",
    "security-Code",
    "SECURITY.CODE",
    "track",
    "track1",
    "track_2",
    "trace",
    "exp",
    "ExpDate",
    "expired",
    "valid_thru",
    "magstripe",
    "mag_stripe",
    "x_id",
    "xid",
    "pan_ref",
    "PANREF",
    "zz",
    "zzz",
]
_LINE = st.lists(st.sampled_from(_PIECES), max_size=40).map(lambda p: "".join(p).encode())
_LINES = st.lists(_LINE, min_size=1, max_size=8)


def _matching(pattern: object, lines: list[bytes]) -> set[int]:
    search = pattern.search  # type: ignore[attr-defined]
    return {i for i, line in enumerate(lines) if search(line) is not None}


@settings(max_examples=400, deadline=None)
@given(lines=_LINES)
def test_candidates_hold_every_line_the_pattern_matches(lines: list[bytes]) -> None:
    candidates = set(PREFILTER.candidates(lines))
    for engine, pattern in PATTERNS.items():
        missed = _matching(pattern, lines) - candidates
        assert not missed, f"{engine}: lines {sorted(missed)} match but are not candidates"
    missed = _matching(PATTERN_EXTRA, lines) - set(PREFILTER_EXTRA.candidates(lines))
    assert not missed, f"extra names: lines {sorted(missed)} match but are not candidates"


@settings(max_examples=400, deadline=None)
@given(lines=_LINES, lead=st.integers(0, 40))
def test_vector_and_byte_loop_agree(lines: list[bytes], lead: int) -> None:
    # `lead` shifts every line across the 16-byte blocks and the padded ends
    shifted = [b"y" * lead + line for line in lines] + lines
    for prefilter in (PREFILTER, PREFILTER_EXTRA):
        assert prefilter.candidates(shifted) == prefilter.reference(shifted)


@pytest.mark.parametrize("n", range(0, 40))
def test_every_length_and_position(n: int) -> None:
    """A chain, a name, an escape and an exponent at every offset of short lines."""
    for piece in (b"411111111111", b"4 1 1 1 1 1 1 1 1 1 1 1", b"cvv", b"\\u0", b"%3", b"4.1e15"):
        line = (b"_" * n + piece)[-max(n, len(piece)) :]
        assert PREFILTER.candidates([line]) == [0], f"offset {n}, piece {len(piece)} bytes"
        padded = line + b"_" * n
        assert PREFILTER.candidates([padded]) == [0]
    assert PREFILTER.candidates([b"_" * n]) == []


def test_near_misses_are_not_candidates() -> None:
    lines = [
        b"41111111111",  # eleven digits
        b"4111 1111  1111",  # two separators break the chain
        b"spinner shipping",  # `pin` inside words
        b"expired expected",  # `exp` followed by lowercase
        b"4e15 4.1e10",  # too small or no fraction
        b'{"trace_id":"5bc8fbbcbde5c0994164d8399f767c45","seq":1}',
    ]
    assert PREFILTER.candidates(lines) == []
    assert PREFILTER.candidates([b"a" * 5000 + b"4111111111111111"]) == [0]


def test_rejects_what_it_cannot_read() -> None:
    with pytest.raises(TypeError):
        PREFILTER.candidates([b"ok", "text"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        PREFILTER.candidates((b"ok",))  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(lines=_LINES)
def test_redactor_scan_flags_what_the_regex_scan_flags(lines: list[bytes]) -> None:
    for engine in ("re", "re2"):
        redactor = Redactor(RedactConfig(scan_engine=engine))
        assert redactor._prefiltered is not None
        expected = flagged_lines(redactor._scan, lines)
        assert redactor.scan(lines) == expected, f"{engine}: the two scans differ"


def test_redactor_scan_agrees_on_realistic_and_worst_case_batches() -> None:
    from tests.redact.linegen import realistic_batch, worst_case_batch

    lines = realistic_batch(2000) + worst_case_batch(50) + [b"a\nb 4111111111111111\nc"]
    redactor = Redactor(RedactConfig())
    expected = flagged_lines(redactor._scan, lines)
    assert expected
    assert redactor.scan(lines) == expected


def test_names_are_checked_case_and_separator_insensitively() -> None:
    lines = [b"SecurityCode", b"security.code", b"PinBlock", b"xTrack2", b"5cvv", b"Exp"]
    assert PREFILTER.candidates(lines) == list(range(len(lines)))
    assert re.search(rb"\d{12}", b"".join(lines)) is None
