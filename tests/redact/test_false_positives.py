"""Ids, timestamps, amounts and phone numbers pass untouched unless they are real cards."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.redact import Redactor
from collector.redact.cards import is_pan
from collector.redact.config import RedactConfig
from tests.redact.linegen import realistic_batch
from tests.redact.support import same, ship

REDACTOR = Redactor(RedactConfig())


def _card_runs(text: str) -> bool:
    """Whether any maximal digit run or printed grouping in `text` is Luhn + brand."""
    digits = "".join(c if c.isdigit() else " " for c in text).split()
    joined = "".join(c for c in text if c.isdigit() or c in " -.").replace("-", " ").split(" ")
    return any(is_pan(d) for d in digits) or any(
        is_pan("".join(joined[i:j]))
        for i in range(len(joined))
        for j in range(i + 1, len(joined) + 1)
    )


def _unchanged(value: Any) -> bool:
    record = {"v": value}
    return same(ship(REDACTOR, [msgspec.json.encode(record)])[0], record)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.integers(1_000_000_000_000, 1_999_999_999_999),  # epoch ms
        st.integers(1_000_000_000_000_000, 1_999_999_999_999_999),  # epoch us
        st.integers(1_000_000_000_000_000_000, 1_999_999_999_999_999_999),  # epoch ns
    )
)
def test_epoch_timestamps_pass_as_numbers_and_strings(ts: int) -> None:
    assert _unchanged(ts)
    assert _unchanged(str(ts))
    assert REDACTOR.scan([msgspec.json.encode({"ts": ts})]) == []


@settings(max_examples=200, deadline=None)
@given(st.uuids())
def test_uuids_pass(u: uuid.UUID) -> None:
    assert _unchanged(str(u))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16).map(bytes.hex))
def test_trace_ids_pass_unless_they_hold_a_card(trace: str) -> None:
    assert _unchanged(trace) or _card_runs(trace)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**12 - 1), st.sampled_from(["ord_", "ORD-", "order-", ""]))
def test_order_ids_pass_unless_they_are_cards(n: int, prefix: str) -> None:
    value = f"{prefix}{n}"
    assert _unchanged(value) or _card_runs(value)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 99))
def test_amounts_pass(units: int, cents: int) -> None:
    assert _unchanged(units)
    assert _unchanged(f"{units}.{cents:02d}")
    assert _unchanged(units + cents / 100)
    assert _unchanged(f"EUR {units}.{cents:02d} EUR {cents}.{units % 100:02d}")


@pytest.mark.parametrize(
    "value",
    [
        "+1 415-555-2671",
        "+44 20 7946 0958",
        "+49 (30) 901820",
        "0049 30 901 82012",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "2026-11-26T11:13:44.123456789Z",
        "1732612345.123456",
        "10.0.0.1:8080",
        "v1.22.333.4444",
        "123e4567-e89b-12d3-a456-426614174000",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "shipping to opinion street, spinner expected",
    ],
)
def test_common_shapes_pass(value: str) -> None:
    assert _unchanged(value), "value changed"


def test_big_integers_stay_exact_and_key_order_is_kept() -> None:
    record = {"z": 10**30 + 7, "a": -(10**25), "m": 1.5, "card": "4111111111111111", "b": 2**64}
    out = ship(REDACTOR, [msgspec.json.encode(record)])[0]
    assert list(out) == ["z", "a", "m", "card", "b"]
    assert out["z"] == 10**30 + 7 and type(out["z"]) is int
    assert out["a"] == -(10**25) and out["b"] == 2**64
    assert out["card"] == "411111******1111"


def test_realistic_lines_without_cards_are_rarely_flagged() -> None:
    lines = realistic_batch(2000)
    with_card = {i for i, line in enumerate(lines) if b"card" in line}
    flagged = set(REDACTOR.scan(lines))
    assert with_card <= flagged
    # Only hex ids that happen to open with 12 digits are flagged without a card.
    assert len(flagged - with_card) < len(lines) * 0.02
