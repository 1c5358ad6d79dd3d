"""Sensitive key names: case- and separator-insensitive, at word boundaries."""

from __future__ import annotations

import re

import pytest

from collector.redact.keys import (
    EXPIRY_NAMES,
    SAD_NAMES,
    KeyClassifier,
    KeyKind,
    names_pattern,
    words,
)

CLASSIFIER = KeyClassifier(SAD_NAMES, EXPIRY_NAMES)


@pytest.mark.parametrize(
    "key",
    [
        "cvv",
        "CVV",
        "cvv2",
        "cardCvv",
        "card_cvc",
        "CVC2",
        "cid",
        "security_code",
        "SecurityCode",
        "security-code",
        "SECURITYCODE",
        "pin",
        "PIN",
        "pinBlock",
        "pin_block",
        "PINBLOCK",
        "track1",
        "track_2",
        "Track2Data",
        "track_data",
        "trackData",
        "payment.card.cvv",
        "cardVerification",
        "card_verification_value",
        "magStripe",
    ],
)
def test_sad_keys(key: str) -> None:
    assert CLASSIFIER.kind(key) == KeyKind.SAD


@pytest.mark.parametrize(
    "key", ["exp", "expiry", "expDate", "exp_month", "card_expiry", "EXPIRATION_DATE", "validThru"]
)
def test_expiry_keys(key: str) -> None:
    assert CLASSIFIER.kind(key) == KeyKind.EXPIRY


@pytest.mark.parametrize(
    "key",
    [
        "shipping",
        "spinner",
        "opinion",
        "expected",
        "export",
        "expires_at",
        "trace_id",
        "tracking",
        "decide",
        "incident",
        "pineapple",
        "cavity",
        "msg",
        "level",
    ],
)
def test_ordinary_keys(key: str) -> None:
    assert CLASSIFIER.kind(key) in (KeyKind.NONE, KeyKind.CARDISH)


@pytest.mark.parametrize("key", ["de2", "DE002", "F2", "field_2", "fld2", "2", "bit-2"])
def test_iso_field_2_keys(key: str) -> None:
    assert CLASSIFIER.kind(key) == KeyKind.PAN


@pytest.mark.parametrize("key", ["account_number", "cc", "card", "pan_last4", "debitCard"])
def test_card_keys_give_context(key: str) -> None:
    assert CLASSIFIER.kind(key) == KeyKind.CARDISH


@pytest.mark.parametrize(
    "key", ["card_number", "cardNo", "pan", "pans", "card_numbers", "cardNumber", "masked_pan"]
)
def test_pan_keys_say_they_hold_a_card_number(key: str) -> None:
    assert CLASSIFIER.kind(key) == KeyKind.PAN


@pytest.mark.parametrize(
    "key",
    [
        "cardCode",
        "cvNumber",
        "CardSecurityCode",
        "CVNum",
        "CardSecVal",
        "verification_value",
        "DS_MERCHANT_CVV2",
        "card[cvc]",
        "fsv",
        "cvd",
        "encrypted_pin",
        "pin_block",
        "PIN Data",
        "field_52",
        "DE035",
    ],
)
def test_gateway_sad_names(key: str) -> None:
    assert CLASSIFIER.kind(key) == KeyKind.SAD


@pytest.mark.parametrize(
    "key",
    [
        "cvc_check",
        "cvcResult",
        "cvcResultRaw",
        "cvvResult",
        "cvv_result",
        "cvv2_response_code",
        "cvvVerification",
        "securityCodeIndicator",
        "pin_verified",
        "pin_required",
        "pinCount",
        "expiry_policy",
        "pan_last4",
    ],
)
def test_qualified_names_are_result_fields_not_secrets(key: str) -> None:
    """Issue 13, 11: the SAD word qualified by check / result / ... is a fact about it."""
    assert CLASSIFIER.kind(key) not in (KeyKind.SAD, KeyKind.EXPIRY, KeyKind.PAN)


def test_words_split_camel_snake_kebab() -> None:
    assert words("cardSecurity-Code_x") == ["card", "security", "code", "x"]
    assert words("PINBlock") == ["pin", "block"]


def test_scan_style_matches_at_least_what_the_careful_style_matches() -> None:
    careful = re.compile(names_pattern(SAD_NAMES))
    scan = re.compile(names_pattern(SAD_NAMES, scan_style=True), re.MULTILINE)
    samples = ["x cardPin=1", "PIN", "pin_block", "shipping", "a.cvv2", "SPIN", "trackData", "Cvv"]
    for text in samples:
        assert not careful.search(text) or scan.search(text), f"scan style misses {text!r}"


def test_extra_names_must_start_with_a_letter() -> None:
    with pytest.raises(ValueError):
        names_pattern(["2fa"])
