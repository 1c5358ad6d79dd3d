"""The brand table and Luhn: the single definition of "is a card"."""

from __future__ import annotations

import pytest

from collector.redact.cards import BRANDS, FIRST_DIGITS, brand_of, is_pan, luhn_complete, luhn_ok

# Public test numbers of the schemes.
KNOWN = {
    "4111111111111111": "visa",
    "4222222222222": "visa",
    "5555555555554444": "mastercard",
    "2223003122003222": "mastercard",
    "378282246310005": "amex",
    "6011111111111117": "discover",
    "3530111333300000": "jcb",
    "30569309025904": "diners",
    "6200000000000005": "unionpay",
    "6759649826438453": "maestro",
}


@pytest.mark.parametrize(("pan", "brand"), sorted(KNOWN.items()))
def test_known_test_cards(pan: str, brand: str) -> None:
    assert luhn_ok(pan)
    assert brand_of(pan) == brand
    assert is_pan(pan)


def test_luhn_rejects_a_changed_digit() -> None:
    for pan in KNOWN:
        changed = pan[:-1] + str((int(pan[-1]) + 1) % 10)
        assert not luhn_ok(changed)
        assert not is_pan(changed)


def test_luhn_complete_makes_valid_numbers() -> None:
    assert luhn_ok(luhn_complete("411111111111111"))
    assert luhn_complete("411111111111111") == "4111111111111111"


@pytest.mark.parametrize("length", range(12, 20))
def test_lengths_follow_the_brand(length: int) -> None:
    visa = luhn_complete("4" + "0" * (length - 2))
    assert is_pan(visa) == (length in (13, 16, 19))
    amex = luhn_complete("37" + "0" * (length - 3))
    assert is_pan(amex) == (length == 15)


def test_mastercard_2_series_bounds() -> None:
    assert brand_of(luhn_complete("222100000000000")) == "mastercard"
    assert brand_of(luhn_complete("272099999999999")) == "mastercard"
    assert brand_of(luhn_complete("222000000000000")) is None
    assert brand_of(luhn_complete("220400000000000")) == "mir"
    assert brand_of(luhn_complete("272100000000000")) is None


def test_twelve_digit_maestro_needs_context() -> None:
    pan = luhn_complete("50180000000")
    assert not is_pan(pan)
    assert is_pan(pan, card_context=True)


def test_no_brand_starts_with_the_digits_of_timestamps() -> None:
    assert "1" not in FIRST_DIGITS  # epoch timestamps (s, ms, us, ns) open with 1
    assert all(str(d) in FIRST_DIGITS for d in (2, 3, 4, 5, 6))


def test_every_brand_has_prefixes_and_lengths() -> None:
    for brand in BRANDS:
        assert brand.prefixes and brand.lengths
        assert all(len(lo) == len(hi) and lo <= hi for lo, hi in brand.prefixes)
