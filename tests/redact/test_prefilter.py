"""The pre-scan's first step in C: never passes over a line the careful pass would change.

`_prefilter.c` answers "could the careful pass change this line?" and only its candidates
go on, so a line it misses is card data shipped unredacted. These tests hold it against
the redactor itself (every line the walk or the text pass changes is a candidate), against
a Python reading of its rules written from its header, and its vector form against its
one-byte-at-a-time form.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.redact import Redactor
from collector.redact.cards import is_pan, luhn_complete
from collector.redact.config import RedactConfig
from collector.redact.keys import EXPIRY_NAMES, SAD_NAMES, names_pattern
from collector.redact.scan import flagged_lines, load_prefilter
from collector.redact.text import _in_hex_id
from tests.redact.strategies import FORMS, pan_from_seed, pan_seeds
from tests.redact.support import same

NAMES = [*SAD_NAMES, *EXPIRY_NAMES]
EXTRA = ["x_id", "PAN_ref", "zz"]  # a one-letter first word, an acronym, a short word
PREFILTER = load_prefilter(NAMES)
PREFILTER_EXTRA = load_prefilter([*NAMES, *EXTRA])
REDACTOR = Redactor(RedactConfig())
REDACTOR_EXTRA = Redactor(RedactConfig(extra_sensitive_keys=EXTRA))

pytestmark = pytest.mark.skipif(PREFILTER is None, reason="the C extension is not built")
FORM = getattr(sys.modules.get("collector.redact._prefilter"), "FORM", "none")

PAN = "4111111111111111"
PAN12 = luhn_complete("50000000000")  # a 12-digit Maestro: a card only in card context

# Pieces that reach every rule and every state of the C loop: cards in every printed
# form and dump, digit runs and groupings that are not cards, escapes, exponents, key
# names in any case and glued to letters or digits, hex ids, newlines, non-ASCII bytes.
_PIECES = [
    *"0123456789",
    *"4455",
    " ",
    "-",
    ".",
    "+",
    "  ",
    "--",
    "=",
    "^",
    "D",
    "d1234567",
    "=12345",
    "5A",
    "5a08",
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
    "cardPin",
    "spin",
    "security-Code",
    "security___code",
    "track_2",
    "trace",
    "ExpDate",
    "expired",
    "x_id",
    "PANREF",
    "zz",
    "zzz",
    "4111",
    "1111",
    "411111",
    "111111111111",
    "41111111111111",
    PAN,
    PAN12,
    "16",
    "DE2=",
    '"2": ',
    "0200",
    "7234054128C28805",
    "5829-681876531737",
    "66069539495403a0fc3f3",
]
_LINE = st.lists(st.sampled_from(_PIECES), max_size=30).map(lambda p: "".join(p).encode())
_LINES = st.lists(_LINE, min_size=1, max_size=8)


# --- a Python reading of the rules in _prefilter.c's header -----------------------------
_CHAIN = re.compile(rb"[0-9]+(?:[ .+\-][0-9]+)*")
_GROUP = re.compile(rb"[0-9]+")
_NAMES = {
    False: re.compile(names_pattern(NAMES, scan_style=True).encode(), re.M),
    True: re.compile(names_pattern([*NAMES, *EXTRA], scan_style=True).encode(), re.M),
}


def _shape_ok(lengths: list[int]) -> bool:
    if len(lengths) == 1 or (all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4):
        return True
    return len(lengths) == 3 and lengths[:2] == [4, 6] and lengths[2] in (4, 5)


def _group_rules(line: bytes, start: int, digits: bytes) -> bool:
    end = start + len(digits)
    if len(digits) >= 14:
        ll = int(digits[:2])
        labelled = re.search(rb"2[^0-9A-Za-z]*$", line[:start]) is not None
        if labelled and ll == len(digits) - 2 and is_pan(digits[2:].decode(), True):
            return True
        token = re.match(rb"[0-9A-Fa-f]*", line[end:])
        head = re.search(rb"[0-9A-Fa-f]*$", line[:start])
        assert token is not None and head is not None
        whole = head.group() + digits + token.group()
        if len(whole) >= 34 and re.match(rb"[0-9]{4}[4-7C-Fc-f]", whole):
            return True
    if len(digits) >= 12:
        if line[end : end + 1] == b"^" or re.match(rb"[=Dd][0-9]{7}", line[end:]):
            return True
        if re.search(rb"5[Aa]", line[max(0, start - 4) : start]):
            return True
    return False


def model_candidate(line: bytes, extra: bool = False) -> bool:
    if re.search(rb"%[23]|\\[ux]", line):
        return True
    if re.search(rb"[0-9][eE]\+1[1-8]|[0-9]\.[0-9]*[eE]\+?1[1-8]", line):
        return True
    if _NAMES[extra].search(line):
        return True
    for chain in _CHAIN.finditer(line):
        groups = [(chain.start() + g.start(), g.group()) for g in _GROUP.finditer(chain.group())]
        if any(_group_rules(line, start, digits) for start, digits in groups):
            return True
        text = line.decode("latin-1")
        hex_id = _in_hex_id(text, groups[0][0])  # no card starts on the first group
        for j in range(len(groups)):
            for i in range(j, 0 if hex_id else -1, -1):
                window = [d for _, d in groups[i : j + 1]]
                digits = b"".join(window)
                if len(digits) > 19:
                    break
                if _shape_ok([len(d) for d in window]) and is_pan(digits.decode(), True):
                    return True
    return False


# --- the tests ------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(lines=_LINES)
def test_candidates_follow_the_rules_of_the_header(lines: list[bytes]) -> None:
    expected = [i for i, line in enumerate(lines) if model_candidate(line)]
    assert PREFILTER.candidates(lines) == expected
    expected = [i for i, line in enumerate(lines) if model_candidate(line, extra=True)]
    assert PREFILTER_EXTRA.candidates(lines) == expected


@settings(max_examples=400, deadline=None)
@given(lines=_LINES, lead=st.integers(0, 40))
def test_vector_and_byte_loop_agree(lines: list[bytes], lead: int) -> None:
    # `lead` shifts every line across the 16-byte blocks and the padded ends
    shifted = [b"y" * lead + line for line in lines] + lines
    for prefilter in (PREFILTER, PREFILTER_EXTRA):
        expected = prefilter.reference(shifted)
        assert prefilter.candidates(shifted) == expected, FORM
        if hasattr(prefilter, "sse2"):
            assert prefilter.sse2(shifted) == expected, "sse2"


def _changed(redactor: Redactor, line: bytes) -> bool:
    """Whether the careful pass changes the line, read as JSON when it is JSON."""
    try:
        record = msgspec.json.decode(line)
    except msgspec.DecodeError:
        record = None
    if isinstance(record, dict):
        return not same(redactor.redact_record(msgspec.json.decode(line)), record)
    text = line.decode("utf-8", "replace")
    return redactor.redact_text(text) != text


_VALUES = st.one_of(
    _LINE.map(lambda b: b.decode("utf-8", "replace")),
    st.builds(
        lambda seed, form: FORMS[form](pan_from_seed(seed)),
        pan_seeds,
        st.sampled_from(sorted(FORMS)),
    ),
    st.integers(-(10**19), 10**19),
)
_KEYS = st.sampled_from(["msg", "id", "card", "cvv", "DE2", "2", "exp", "note", "pan"])
_RECORDS = st.dictionaries(_KEYS, st.one_of(_VALUES, st.dictionaries(_KEYS, _VALUES, max_size=3)))


@settings(max_examples=300, deadline=None)
@given(records=st.lists(_RECORDS, min_size=1, max_size=6), raw=_LINES)
def test_every_line_the_careful_pass_changes_is_flagged(
    records: list[dict[str, Any]], raw: list[bytes]
) -> None:
    lines = [msgspec.json.encode(r) for r in records] + raw
    for redactor in (REDACTOR, REDACTOR_EXTRA):
        assert redactor._line_scan is not None
        candidates = set(redactor._line_scan(lines))
        flagged = set(redactor.scan(lines))
        for i, line in enumerate(lines):
            if _changed(redactor, line):
                assert i in candidates, f"line {i}: changed by the careful pass, not a candidate"
                assert i in flagged, f"line {i}: changed by the careful pass, not flagged"


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_written_form_of_a_card_is_a_candidate(form: str) -> None:
    for pan in (PAN, "378282246310005", "6011000990139424", "4000000000000000006"):
        line = msgspec.json.encode({"msg": FORMS[form](pan)})
        assert PREFILTER.candidates([b"{}", line]) == [1], f"form {form} missed"


@pytest.mark.parametrize("n", range(0, 40))
def test_every_length_and_position(n: int) -> None:
    """Each rule at every offset of short lines (the padded first and last blocks)."""
    pieces = (PAN.encode(), b"4111 1111 1111 1111", b"cvv", b"\\u0", b"%3", b"4.1e15")
    for piece in pieces:
        line = (b"_" * n + piece)[-max(n, len(piece)) :]
        assert PREFILTER.candidates([line]) == [0], f"offset {n}, piece {len(piece)} bytes"
        assert PREFILTER.candidates([line + b"_" * n]) == [0]
    assert PREFILTER.candidates([b"_" * n, b"1" * n]) == []


def test_what_is_not_a_candidate() -> None:
    lines = [
        b"41111111111",  # eleven digits
        b"4111111111111112",  # Luhn fails
        b"4111 1111  1111 1111",  # two separators break the chain
        b"41111111 11111111",  # not a card's grouping
        b"spinner shipping",  # `pin` inside words
        b"expired expected",  # `exp` followed by lowercase
        b"4e15 4.1e10",  # too small or no fraction
        b'{"trace_id":"77921728024311513158645bbd3c5750","seq":1}',  # a hex id's digits
        b'"request_id":"5829-681876531737"',  # UUID groups
        b'"span":"ab4111111111111111cd"',  # a card's digits inside a hex id
        b"1700000000000 1700000000000123",  # epoch ms and ns
        b'{"ts":1781151090433729280}',  # epoch ns that reads as LL + a card
    ]
    assert PREFILTER.candidates(lines) == []
    assert PREFILTER.candidates([b"x" * 5000 + PAN.encode()]) == [0]  # glued to a non-hex letter


def test_payment_message_dumps_are_candidates() -> None:
    lines = [
        f"DE2=16{PAN} DE3=000000".encode(),  # a length-prefixed PAN
        f'{{"DE2":{" " * 20}"16{PAN}"}}'.encode(),  # ... under a field 2 key
        f"02007234054128C2880516{PAN}000000".encode(),  # an ISO 8583 message
        f"x02007234054128C2880512{PAN12}".encode(),  # the shortest one
        f"0200C234054128C28805{'0' * 16}16{PAN}".encode(),  # with a secondary bitmap
        f"5A08{PAN}5F2403".encode(),  # EMV tag 5A
        f";{PAN}=2512101?".encode(),  # track 2
        f"%B{PAN}^DOE/JOHN^2512".encode(),  # track 1
        f"card {PAN12}".encode(),  # 12-digit Maestro: context is the walk's to judge
    ]
    assert PREFILTER.candidates(lines) == list(range(len(lines)))


def test_rejects_what_it_cannot_read() -> None:
    with pytest.raises(TypeError):
        PREFILTER.candidates([b"ok", "text"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        PREFILTER.candidates((b"ok",))  # type: ignore[arg-type]


def test_redactor_scan_against_the_regex_scan_on_realistic_batches() -> None:
    """The C scan replaces RE2's: the lines with card data are flagged by both, and what
    it flags beyond RE2 (12-digit Maestro-shaped ids, which the walk then judges with
    their context) stays a small share of a realistic batch."""
    from tests.redact.linegen import realistic_batch, worst_case_batch

    lines = realistic_batch(2000) + worst_case_batch(50) + [b"a\nb " + PAN.encode() + b"\nc"]
    flagged = set(REDACTOR.scan(lines))
    regex = set(flagged_lines(REDACTOR._scan, lines))
    changed = {i for i in regex if _changed(REDACTOR, lines[i])}
    assert changed <= flagged
    assert set(range(2000, 2051)) <= flagged, "every worst-case line holds cards"
    assert len(flagged - regex) <= 20, "the C scan should not flag many more lines than RE2"


def test_names_are_checked_case_and_separator_insensitively() -> None:
    lines = [b"SecurityCode", b"security.code", b"PinBlock", b"xTrack2", b"5cvv", b"Exp"]
    assert PREFILTER.candidates(lines) == list(range(len(lines)))


def _grouped(digits: str, seps: list[str]) -> str:
    out, at = [], 0
    for size, sep in zip([4, 4, 4, 4, 3], seps, strict=False):
        out.append(digits[at : at + size] + (sep if at + size < len(digits) else ""))
        at += size
    return "".join(out) + digits[at:]


_CARD_LIKE = st.one_of(
    st.builds(lambda seed: pan_from_seed(seed), pan_seeds),
    st.builds(
        _grouped,
        st.builds(lambda seed: pan_from_seed(seed), pan_seeds),
        st.lists(st.sampled_from([" ", "-", ".", "+", ""]), min_size=5, max_size=5),
    ),
    st.sampled_from([PAN12, "5000 0000 0009", "3782 822463 10005", PAN + "1", "0" + PAN]),
    st.text("0123456789", min_size=12, max_size=20),
)
_CARD_TEXT = st.builds(
    lambda pad, before, card, after, tail: f"{pad}{before}{card}{after}{tail}",
    st.text("z ", max_size=40),
    st.sampled_from(
        [
            "",
            "card ",
            "Card:",
            "account ",
            "pan ",
            "xpan ",
            "pan",
            "panx ",
            "cc=",
            "ACCT:",
            "maestro ",
            "deadbeef",
            "a",
            "x",
            "%3A",
            "ref",
            "card" + "z" * 28,
            "card" + "z" * 29,
        ]
    ),
    _CARD_LIKE,
    st.sampled_from(["", "cd", "x", "f00", " ", "-", "Z"]),
    st.text("z 4", max_size=10),
)


@settings(max_examples=500, deadline=None)
@given(text=_CARD_TEXT, card_context=st.booleans())
def test_card_spans_are_the_careful_passs_own(text: str, card_context: bool) -> None:
    """The C `card_spans` against text.py's Python `_pan_spans` (plain ASCII reading)."""
    from collector.redact.text import _CANDIDATE_PLAIN, _PLAIN_SEP_RE, _matches

    ascii_text = text.encode("ascii", "replace").decode()
    python = REDACTOR.text._pan_spans(
        ascii_text, card_context, _matches(_CANDIDATE_PLAIN, ascii_text), _PLAIN_SEP_RE
    )
    c = PREFILTER.card_spans(ascii_text.encode(), card_context)
    assert c == [(start, end) for start, end, _ in python]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.binary(max_size=200), min_size=1, max_size=6), lead=st.integers(0, 33))
def test_binary_garbage_is_read_safely_and_alike_by_every_form(
    lines: list[bytes], lead: int
) -> None:
    """Any bytes (NUL, high bytes, cut UTF-8): every entry point answers, the forms agree."""
    shifted = [b"9" * lead + line for line in lines]
    expected = PREFILTER.reference(shifted)
    assert PREFILTER.candidates(shifted) == expected
    if hasattr(PREFILTER, "sse2"):
        assert PREFILTER.sse2(shifted) == expected
    for line in shifted:
        assert (PREFILTER.reasons(line) != 0) == (shifted.index(line) in expected)
        for start, end in PREFILTER.card_spans(line, True):
            assert 0 <= start < end <= len(line)
        assert PREFILTER.json_cards(line, 64) is None or b"\\" not in line
