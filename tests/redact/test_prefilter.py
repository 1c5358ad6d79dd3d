"""The pre-scan's first step in C: never passes over a line the careful pass would change.

`_prefilter.c` answers "could the careful pass change this line?" and only its candidates
go on, so a line it misses is card data shipped unredacted. Its rules are the detector's
(detect.py) made wider, from the same tables. These tests hold it against the redactor
itself (every line the walk or the text pass changes is a candidate; every card the
detector finds lies in a span the C reports) and its vector forms against its
one-byte-at-a-time form.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.redact import Redactor
from collector.redact.cards import luhn_complete
from collector.redact.config import RedactConfig
from collector.redact.keys import EXPIRY_NAMES, PAN_NAMES, SAD_NAMES
from collector.redact.scan import Reason, load_prefilter
from tests.redact.clean_corpus import clean_lines
from tests.redact.strategies import FORMS, pan_from_seed, pan_seeds
from tests.redact.support import same

NAMES = [*SAD_NAMES, *EXPIRY_NAMES, *PAN_NAMES]
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
    "\t",
    "\\t",
    "\\n",
    "___",
    "52:",
    "[052]",
    " value=",
    "&#5",
    "&nbsp;",
    "\u00a0",
    "\uff14",
    "\u2009",
    "LLVAR=",
    "****",
    "=2512101",
    "card[cvc]",
]
_LINE = st.lists(st.sampled_from(_PIECES), max_size=30).map(lambda p: "".join(p).encode())
_LINES = st.lists(_LINE, min_size=1, max_size=8)


# --- the tests ------------------------------------------------------------------------
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
    pieces = (PAN.encode(), b"4111 1111 1111 1111", b"cvv", b"\\u0", b"%31", b"4.1e15")
    for piece in pieces:
        line = (b"_" * n + piece)[-max(n, len(piece)) :]
        assert PREFILTER.candidates([line]) == [0], f"offset {n}, piece {len(piece)} bytes"
        assert PREFILTER.candidates([line + b"_" * n]) == [0]
    assert PREFILTER.candidates([b"_" * n, b"1" * n]) == []


def test_what_is_not_a_candidate() -> None:
    lines = [
        b"41111111111",  # eleven digits
        b"4111111111111112",  # Luhn fails
        b"4111 1111       1111 1111",  # seven separators in a row end the chain
        b"spinner shipping",  # `pin` inside words
        b"expired expected",  # `exp` followed by lowercase
        b"4e15 4.1e10",  # too small or no fraction
        b'{"trace_id":"77921728024311513158645bbd3c5750","seq":1}',  # a hex id's digits
        b"1700000000000 1700000000000123",  # epoch ms and ns
        b'{"ts":1781151090433729280}',  # epoch ns that reads as LL + a card
        b"at 11:52:56 and 1.52: 2.52=3",  # times and numbers, not an ISO field 52 label
        b"100% done, &amp; more",  # no escape that can hide a digit
    ]
    assert PREFILTER.candidates(lines) == []
    assert PREFILTER.candidates([b"x" * 5000 + PAN.encode()]) == [0]


def test_payment_message_dumps_are_candidates() -> None:
    lines = [
        f"DE2=16{PAN} DE3=000000".encode(),  # a length-prefixed PAN
        f'{{"DE2":{" " * 20}"16{PAN}"}}'.encode(),  # ... under a field 2 key
        b"DE002 LLVAR=191234567890123456789",  # field 2 whatever its checksum
        b'<field id="2" value="1234567890123456789"/>',
        f"02007234054128C2880516{PAN}000000".encode(),  # an ISO 8583 message
        f"x02007234054128C2880512{PAN12}".encode(),  # the shortest one
        f"0200C234054128C28805{'0' * 16}16{PAN}".encode(),  # with a secondary bitmap
        f"5A08{PAN}5F2403".encode(),  # EMV tag 5A
        f";{PAN}=2512101?".encode(),  # track 2
        b"4111****1111=2512101000",  # track 2 after a masked PAN
        f"%B{PAN}^DOE/JOHN^2512".encode(),  # track 1
        f"card {PAN12}".encode(),  # 12-digit Maestro: context is the walk's to judge
        b"DE052=1A2B3C4D5E6F7089",  # PIN block labels
        b"x 52: 1A2B3C4D5E6F7089",
        b"[052] 1A2B3C4D5E6F7089",
        b'<field id="52" value="1A2B3C4D5E6F7089"/>',
        b"4111 11 1111 111111",  # any grouping
        b"4111_1111_1111_1111",
        b"4111 - 1111 - 1111 - 1111",
    ]
    assert PREFILTER.candidates(lines) == list(range(len(lines)))


def test_rejects_what_it_cannot_read() -> None:
    with pytest.raises(TypeError):
        PREFILTER.candidates([b"ok", "text"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        PREFILTER.candidates((b"ok",))  # type: ignore[arg-type]


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
def test_every_card_the_detector_finds_lies_in_a_c_span(text: str, card_context: bool) -> None:
    """The JSON shortcut redacts the strings that hold the C's `card_spans`; the detector
    (detect.py) must find no card outside them in plain ASCII text."""
    ascii_text = text.encode("ascii", "replace").decode()
    spans = PREFILTER.card_spans(ascii_text.encode(), card_context)
    for f in REDACTOR.text._detector.chains(ascii_text, card_context):
        assert any(s <= f.start and f.end <= e for s, e in spans), "a card outside the spans"


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


class _Hidden(str):
    """A generated text whose repr (in hypothesis' falsifying examples) shows its shape
    with every digit written `d`: never a card number."""

    def __repr__(self) -> str:
        return "_Hidden(" + repr("".join("d" if c.isdigit() else c for c in self)) + ")"


# What the exemptions judged by context look at: a phone's `+`, an IBAN's country and
# check digits, a UUID's dashes, card words before 12 digits.
_CONTEXT_PIECES = [" +", "+", "x+", "GB82 ", "DE89", "NL91ABNA", "FR76", "TX41", "-", "--"]
_CONTEXT_PIECES += ["a1b2c3d4-", "-4b2a-", "card ", "pan=", "acct ", "cc:", "Cvv", "exp="]
_ASCII_TEXTS = st.one_of(
    _CARD_TEXT,
    _LINE.map(lambda b: b.decode("utf-8", "replace")),
    st.lists(
        st.one_of(_CARD_LIKE, st.sampled_from(_PIECES), st.sampled_from(_CONTEXT_PIECES)),
        max_size=10,
    ).map("".join),
).map(lambda t: _Hidden(t.encode("ascii", "replace").decode()))


@settings(max_examples=600, deadline=None)
@given(text=_ASCII_TEXTS, card_context=st.booleans())
def test_the_c_findings_give_the_detectors_findings(text: str, card_context: bool) -> None:
    """For plain ASCII text the careful pass takes its card windows and name starts from
    the C (`Prefilter.findings`); it must find exactly what the detector finds alone.
    Compared as booleans: a finding holds a card's digits."""
    raw = text.encode()
    reasons, windows, names = PREFILTER.findings(raw)
    assert reasons == PREFILTER.reasons(raw)
    detector = REDACTOR.text._detector
    alone = sorted(detector.find(str(text), card_context))
    helped = sorted(detector.find(str(text), card_context, None, Reason.ALL, None, windows, names))
    agree = alone == helped
    assert agree, "the C's windows or name starts change what the detector finds"
    for start, end, chain_start, chain_end, _units in windows:
        assert 0 <= chain_start <= start < end <= chain_end <= len(raw)


def _exemption_texts() -> list[str]:
    """Cards next to what the exemptions judged by context look at (built from public
    test numbers), and the clean corpus, whose IBANs, phones and ids hold card-valid
    windows by chance."""
    amex, visa13 = "378282246310005", "4222222222222"
    texts = [
        f"call +{amex}",
        f"call +{visa13} now",
        f"x+{amex}",
        f"a +{PAN}",
        f"+{amex[:4]} {amex[4:]}",
        f"id 123e4567-e89b-12d3-a456-{PAN[:12]} and {PAN}",
        f"ref {PAN[:8]}-{PAN[8:]}",
        f"id {PAN[:8]}-{PAN[8:12]}-{PAN[12:]}-1111-111111111111",  # a UUID of digits
        f"card {PAN12}",
        f"{PAN12} card",
        f"acct:{PAN12}",
        f"deadbeef{PAN}cafe0000",
        f"GB82WEST{PAN}",
        f"iban GB82 WEST {PAN[:4]} {PAN[4:8]} {PAN[8:12]} {PAN[12:]}",
        f"iban DE89 3704 0044 0532 0130 00 {PAN}",
    ]
    texts += [line.decode() for _, line in clean_lines(7, 2600)]
    return [t for t in texts if t.isascii()]


def test_the_c_findings_hold_the_exemptions_judged_by_context() -> None:
    detector = REDACTOR.text._detector
    differ = 0
    for text in _exemption_texts():
        _, windows, names = PREFILTER.findings(text.encode())
        for card_context in (False, True):
            alone = sorted(detector.find(text, card_context))
            helped = detector.find(text, card_context, None, Reason.ALL, None, windows, names)
            differ += alone != sorted(helped)
    assert differ == 0, f"{differ} texts: the C's findings change what the detector finds"
