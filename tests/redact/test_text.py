"""The careful text passes on the forms payment services log."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.redact import Redactor, detect
from collector.redact.cards import luhn_complete
from collector.redact.config import CustomRule, RedactConfig
from tests.redact.strategies import CARD_SHAPES, pan_from_seed
from tests.redact.support import leaks, visible_cards

R = Redactor(RedactConfig())
PAN = "4111111111111111"
AMEX = "378282246310005"


def _clean(text: str, *pans: str) -> bool:
    out = R.redact_text(text)
    return not leaks(out, list(pans)) and visible_cards(out) == 0


@pytest.mark.parametrize(
    "text",
    [
        f"card {PAN} declined",
        "card 4111 1111 1111 1111 declined",
        "card 4111-1111-1111-1111 declined",
        "card 4111.1111.1111.1111 declined",
        "amex 3782 822463 10005",
        "GET /pay?pan=4111+1111+1111+1111&x=1",
        "GET /pay?pan=4111%201111%201111%201111&x=1",
        "GET /pay?pan=%34%31%31%31%31%31%31%31%31%31%31%31%31%31%31%31",
        "text \\u0034\\u0031\\u0031\\u0031111111111111 end",
        f"card:{PAN};",
        f"id{PAN}x",
        f'{{"card":{{"number":"{PAN}"}}}}',
        f'body={{\\"pan\\":\\"{PAN}\\"}}',
        f"<Pan>{PAN}</Pan>",
        f"a=1&card_number={PAN}&b=2",
        f"line one\n{PAN}\nline three",
    ],
)
def test_pan_forms(text: str) -> None:
    assert _clean(text, PAN, AMEX)


def test_masked_output_keeps_bin_and_last4_and_context() -> None:
    assert R.redact_text(f"card {PAN} declined") == "card 411111******1111 declined"
    assert R.redact_text("x 4111 1111 1111 1111 y") == "x 411111******1111 y"


def test_pan_inside_a_longer_run_is_left_alone() -> None:
    text = f"ref 99{PAN}99"
    assert R.redact_text(text) == text


def test_digits_inside_hex_ids_do_not_start_a_card() -> None:
    trace = f"trace 9ab{PAN}cd4e"  # letters inside the token, not only at its ends
    assert R.redact_text(trace) == trace
    glued = f"trace ab{PAN}cd"  # a PAN between letters is not an id
    assert R.redact_text(glued) != glued


def test_twelve_digit_maestro_only_with_a_card_word_near() -> None:
    assert R.redact_text("maestro card 501800000009 ok") != "maestro card 501800000009 ok"
    assert R.redact_text("order 501800000009 ok") == "order 501800000009 ok"


def test_emv_tlv_tags() -> None:
    dump = f"9F0206000000001000 5A08{PAN}5F2403251231"
    assert _clean(dump, PAN)
    unionpay19 = luhn_complete("620000000000000000")
    assert _clean("5A0A" + unionpay19 + "F", unionpay19)
    t2 = f"5713{PAN}D25121010000000000F9F2701"
    out = R.redact_text(t2)
    assert "25121010000000000" not in out and not leaks(out, [PAN])


def test_iso8583_message_and_labelled_fields() -> None:
    msg = f"0200723405412AC28805 16{PAN}".replace(" ", "")
    assert _clean(msg + "000000000000010000", PAN)
    assert _clean(f"DE2=16{PAN} DE3=000000", PAN)
    assert _clean(f"[F035] 37{PAN}=2512101123456789", PAN)
    assert _clean(f"field 45: 76B{PAN}^DOE/JOHN^2512101000000000000", PAN)


def test_track_data_is_removed_whole() -> None:
    t1 = f"%B{PAN}^DOE/JOHN^25121010000000000000?"
    t2 = f";{PAN}=25121010000000000?"
    for track in (t1, t2):
        out = R.redact_text(f"swipe {track} ok")
        assert out == "swipe [REDACTED] ok"


def test_sad_and_expiry_inside_text() -> None:
    r = Redactor(RedactConfig(expiry="always"))
    out = r.redact_text("cvv=123&exp=12/27&pin: 4321 <cvc>999</cvc> CVV2/CVC2: 555")
    assert all(v not in out for v in ("123", "12/27", "4321", "999", "555"))
    assert "exp=**/**" in out


def test_custom_rules_are_applied_and_counted() -> None:
    cfg = RedactConfig(custom_rules=[CustomRule(name="email", pattern=r"[\w.]+@[\w.]+")])
    r = Redactor(cfg)
    assert r.redact_text("mail bob@example.com now") == "mail [REDACTED] now"
    assert r.scan([b'{"m":"x"}', b'{"m":"bob@example.com"}']) == [1]


def test_a_card_after_two_capitals_is_no_iban() -> None:
    """Only a real country's IBAN, at that country's length, exempts its digits: before,
    some prefix of `TX<card>` passed mod 97 for about one card in five."""
    cards = [
        pan_from_seed((shape, noise)) for shape in range(len(CARD_SHAPES)) for noise in range(40)
    ]
    cards = [c for c in cards if len(c) >= 14]  # shorter ones need a card word anyway
    leaked = [
        (glue, i)
        for glue in ("TX", "LS", "OK", "ID")
        for i, card in enumerate(cards)
        if leaks(R.redact_text(f"{glue}{card}"), [card])
    ]
    assert not leaked, f"{len(leaked)} cards after two capitals were taken for IBANs"


def test_a_real_iban_stays() -> None:
    iban = "DE89370400440532013000"  # the registry's example for Germany
    assert R.redact_text(f"payout to {iban} ok") == f"payout to {iban} ok"


def _tlv_walk(nibbles: str, where: list[int], align: int) -> list[detect.Finding]:
    """detect.py's TLV reader in its first form, walking every byte (the reference)."""
    out: list[detect.Finding] = []
    for at in range(align, len(nibbles) - 5, 2):
        tag = next((t for t in ("5A", "57", "9F6B", "56") if nibbles.startswith(t, at)), "")
        if not tag:
            continue
        lpos = at + len(tag)
        length = int(nibbles[lpos : lpos + 2], 16) * 2
        vstart = lpos + 2
        value = nibbles[vstart : vstart + length]
        if length == 0 or len(value) < min(length, 24):
            continue
        if tag == "5A":
            digits = value.rstrip("F")
            if digits.isdigit() and 12 <= len(digits) <= 19:
                end = vstart + len(digits)
                out.append(detect.Finding(where[vstart], where[end - 1] + 1, "pan", digits))
        elif tag in ("57", "9F6B"):
            pan, sep, rest = value.partition("D")
            tail = rest.rstrip("F")
            if sep and pan.isdigit() and 12 <= len(pan) <= 19 and (tail.isdigit() or not tail):
                end = where[vstart + len(value) - 1] + 1
                out.append(detect.Finding(where[vstart], end, "track"))
        elif value.startswith("42") and "5E" in value:
            out.append(detect.Finding(where[vstart], where[vstart + len(value) - 1] + 1, "track"))
    return out


_NIBBLE_PIECES = ["5A", "5a", "57", "56", "9F6B", "9f 6b", "08", "10", "13", "0F", "41"]
_NIBBLE_PIECES += ["D2", "42", "5E", "F", "FF", "0", "5", "A", "7", " ", ":", "x", "1111"]
# spaced dumps, read at both alignments (a tag across the space between two bytes)
_NIBBLE_PIECES += ["A5 7", "E5 A", "39 F6 B", "0 ", "8 ", "41 11 ", "11 11 ", "D2 ", "1 ", "3 "]


@settings(max_examples=1500, deadline=None)
@given(pieces=st.lists(st.sampled_from(_NIBBLE_PIECES), max_size=40))
def test_the_tlv_reader_finds_what_a_byte_walk_finds(pieces: list[str]) -> None:
    """The EMV reader jumps to the tags (a regex) instead of walking every byte, and skips
    regions without one: the same findings as the walk. Compared as booleans (a finding
    holds digits)."""
    text = "".join(pieces)
    walked: list[detect.Finding] = []
    for region in detect._HEX_REGION.finditer(text):
        where = [i for i in range(region.start(), region.end()) if text[i] in detect._HEX]
        nibbles = "".join(text[i] for i in where).upper()
        for align in (0, 1):
            found = _tlv_walk(nibbles, where, align)
            walked.extend(found)
            agree = detect._tlv_findings(nibbles, where, align) == found
            assert agree, "the tags read differ"
    agree = sorted(detect.Detector._emv(text)) == sorted(walked)
    assert agree, "a region skipped as tagless holds a finding"


def test_a_spaced_dump_read_across_its_bytes_is_not_skipped() -> None:
    nibbles = "0" + "5A" + "08" + PAN + "F"
    dump = " ".join(nibbles[i : i + 2] for i in range(0, len(nibbles), 2))
    found = detect.Detector._emv("9f; " + dump)  # a tag's first byte elsewhere: it is read
    assert len(found) == 1 and found[0].kind == "pan", "the tag across a space was missed"
