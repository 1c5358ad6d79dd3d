"""The record walk: keys, numbers, fail closed, counters."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.metrics.internal import REDACTIONS, REGISTRY
from collector.redact import Redactor
from collector.redact.config import RedactConfig
from collector.redact.counters import RedactCounters
from collector.redact.redactor import (
    PLACEHOLDER_KEY,
    PLACEHOLDER_REASON_KEY,
    TEXT_FAIL_CLOSED,
    _Collected,
    _Walk,
)
from tests.redact.support import leaks, same

# The collector's own counter, handed in as the pipeline hands it (collector/pipeline.py).
COUNTED = RedactCounters(redactions=REDACTIONS)


def counted(cfg: RedactConfig) -> Redactor:
    return Redactor(cfg, COUNTED)


PAN = "4111111111111111"


def _count(rule: str) -> float:
    return REGISTRY.get_sample_value("collector_redactions_total", {"rule": rule}) or 0.0


def test_nested_values_keys_and_numbers() -> None:
    r = counted(RedactConfig())
    record: dict[str, Any] = {
        "a": [{"b": {"c": f"card {PAN}"}}],
        "n": int(PAN),
        "f": float(PAN),
        PAN: "keyed by card",
        "ok": "fine",
    }
    out = r.redact_record(record)
    assert not leaks(out, [PAN])
    assert out["n"] == "411111******1111"
    assert out["f"] == "411111******1111"
    assert out["ok"] == "fine"
    assert list(out)[3] == "411111******1111"


def test_sad_keys_remove_values_at_any_depth_and_keep_shape() -> None:
    r = counted(RedactConfig())
    out = r.redact_record({"x": {"card": {"CVV": 123, "pinBlock": "ABCD", "track2": None}}})
    assert out == {"x": {"card": {"CVV": "[REDACTED]", "pinBlock": "[REDACTED]", "track2": None}}}
    out = r.redact_record({"track_data": {"t1": "a", "t2": ["b", 7, True]}})
    assert out == {"track_data": {"t1": "[REDACTED]", "t2": ["[REDACTED]", "[REDACTED]", True]}}


def test_expiry_is_masked_by_key_with_a_pan_in_the_record() -> None:
    r = counted(RedactConfig())
    assert r.redact_record({"exp": "12/27", "expMonth": 12, "other": "12/27", "pan": PAN}) == {
        "exp": "**/**",
        "expMonth": "**",
        "other": "12/27",
        "pan": "411111******1111",
    }


def test_expiry_without_a_full_pan_is_kept_by_default() -> None:
    """PCI DSS counts expiry as cardholder data only with the full PAN (issue 13, 12)."""
    r = counted(RedactConfig())
    card = {"card": {"last4": "1111", "exp_year": 2030, "exp_month": 12}}
    assert r.redact_record(msgspec.json.decode(msgspec.json.encode(card))) == card
    assert r.redact_record({"expiry_policy": "30d", "expiryDate": "8/2018"}) == {
        "expiry_policy": "30d",
        "expiryDate": "8/2018",
    }


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("always", {"exp_year": "****", "expiry_policy": "30d"}), ("never", None)],
)
def test_expiry_option(mode: str, expected: dict[str, Any] | None) -> None:
    r = counted(RedactConfig(expiry=mode))  # type: ignore[arg-type]
    record = {"exp_year": 2030, "expiry_policy": "30d"}
    assert r.redact_record(dict(record)) == (expected or record)
    with_pan = r.redact_record({"exp_year": 2030, "pan": PAN})
    assert (with_pan["exp_year"] == "****") == (mode == "always")


def test_expiry_in_an_embedded_document_follows_its_pan() -> None:
    r = counted(RedactConfig())
    out = r.redact_record({"body": f'{{"number": "{PAN}", "exp_month": 12}}', "m": "exp=12/27"})
    assert msgspec.json.decode(out["body"]) == {"number": "411111******1111", "exp_month": "**"}
    assert out["m"] == "exp=**/**"  # the record held a PAN


def test_extra_keys_from_config() -> None:
    r = Redactor(
        RedactConfig(
            extra_sensitive_keys=["otp_code"], extra_expiry_keys=["good_thru"], expiry="always"
        )
    )
    out = r.redact_record({"otpCode": "998877", "good_thru": "01/30"})
    assert out == {"otpCode": "[REDACTED]", "good_thru": "**/**"}
    assert r.scan([b'{"OTP-CODE":"1"}', b'{"x":"1"}']) == [0]


def test_iso_field_2_key_with_length_prefix() -> None:
    r = counted(RedactConfig())
    out = r.redact_record({"fields": {"2": f"16{PAN}", "3": "000000"}, "de2": int(f"16{PAN}")})
    assert out["fields"] == {"2": "16411111******1111", "3": "000000"}
    assert out["de2"] == "16411111******1111"


def test_too_deep_fails_closed_and_is_counted() -> None:
    r = counted(RedactConfig(max_depth=5))
    node: Any = PAN
    for _ in range(10):
        node = {"x": node}
    before = _count("fail_closed")
    out = r.redact_record(node)
    assert out[PLACEHOLDER_KEY] == "fail_closed"
    assert out[PLACEHOLDER_REASON_KEY] == "too_deep"
    assert not leaks(out, [PAN])
    assert _count("fail_closed") == before + 1


def test_too_big_fails_closed() -> None:
    r = counted(RedactConfig(max_record_bytes=2048))
    out = r.redact_record({"m": "x" * 5000, "card": PAN})
    assert out[PLACEHOLDER_REASON_KEY] == "too_big"
    assert r.redact_text("y" * 5000 + PAN) == TEXT_FAIL_CLOSED


def test_internal_error_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    r = counted(RedactConfig())

    def boom(*args: Any) -> str:
        raise RuntimeError(PAN)

    monkeypatch.setattr(r.text, "redact_flagged", boom)
    out = r.redact_record({"m": f"card {PAN}"})
    assert out[PLACEHOLDER_REASON_KEY] == "internal_error"
    assert not leaks(out, [PAN])
    assert r.redact_text(f"card {PAN}") == TEXT_FAIL_CLOSED


def test_unknown_value_types_are_judged_by_their_text() -> None:
    r = counted(RedactConfig())

    class Opaque:
        def __str__(self) -> str:
            return f"card {PAN}"

    out = r.redact_record({"o": Opaque(), "b": b"bytes"})
    assert out["o"] == "[REDACTED]"
    assert out["b"] == b"bytes"


def test_counters_by_rule_without_values() -> None:
    r = counted(RedactConfig())
    before = {k: _count(k) for k in ("pan", "sad_key", "track", "expiry")}
    r.redact_record(
        {"m": f"{PAN} and 5555555555554444", "cvv": "1", "exp": "1/27", "t": f";{PAN}=2512101000?"}
    )
    assert _count("pan") == before["pan"] + 2
    assert _count("sad_key") == before["sad_key"] + 1
    assert _count("expiry") == before["expiry"] + 1
    assert _count("track") == before["track"] + 1


def test_scan_failure_flags_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    r = counted(RedactConfig())

    class Broken:
        def search(self, *args: Any) -> Any:
            raise RuntimeError("boom")

        def candidates(self, lines: list[bytes]) -> list[int]:
            raise MemoryError

    monkeypatch.setattr(r, "_line_scan", Broken().candidates)
    assert r.scan([b"a", b"b", b"cvv"]) == [0, 1, 2]
    monkeypatch.setattr(r, "_line_scan", None)  # as without the C: every line
    assert r.scan([b"a", b"b", b"cvv"]) == [0, 1, 2]


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        RedactConfig(max_depth=0)
    with pytest.raises(ValueError):
        RedactConfig(max_record_bytes=10)


def test_config_rejects_bad_names_and_patterns() -> None:
    from collector.redact.config import CustomRule

    with pytest.raises(ValueError, match="start with a letter"):
        RedactConfig(extra_sensitive_keys=["2fa"])
    with pytest.raises(ValueError, match="bad pattern"):
        RedactConfig(custom_rules=[CustomRule(name="x", pattern="(")])
    with pytest.raises(ValueError, match="unique"):
        RedactConfig(
            custom_rules=[CustomRule(name="x", pattern="a"), CustomRule(name="x", pattern="b")]
        )


def test_twelve_digit_maestro_under_card_keys_only() -> None:
    from tests.redact.support import ship

    line = b'{"card_number":"501800000009","order":"501800000009","card":{"no":501800000009}}'
    out = ship(counted(RedactConfig()), [line])[0]
    assert out == {
        "card_number": "50******0009",
        "order": "501800000009",
        "card": {"no": "50******0009"},
    }


_SPECIAL = st.sampled_from(
    [
        "cvv",
        "cardCvv",
        "exp",
        "expiry_date",
        "card",
        "card_number",
        "pan",
        "msg",
        "note",
        "de2",
        "pin_block",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "123",
            "12/27",
            "4111111111111111",
            "card 5555555555554444 ok",
            "501800000009",
            "cvv=999",
            "plain",
        ]
    ),
    st.sampled_from([None, True, 7, 4111111111111111, 501800000009, 2.5, 1764156824123]),
)
_TREES = st.recursive(
    _VALUES,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(_SPECIAL, kids, max_size=4)),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_SPECIAL, _TREES, min_size=1, max_size=5))
def test_in_place_patch_equals_the_full_walk(record: dict[str, Any]) -> None:
    r = counted(RedactConfig())
    line = msgspec.json.encode(record)
    fast = r.redact_record(msgspec.json.decode(line))
    slow_input = msgspec.json.decode(line)
    found = _Collected()
    r._collect(slow_input, found, 1)
    walk = _Walk(r.text.needs_work(found.keys, found.values))
    slow = r._dict(slow_input, 1, walk, False)
    r._finish(walk)
    assert same(fast, slow), "fast path and full walk disagree"


def test_batch_form_withholds_only_the_record_that_fails() -> None:
    r = counted(RedactConfig(max_depth=4))
    deep: Any = "x"
    for _ in range(6):
        deep = {"d": deep}
    records: list[dict[str, Any]] = [
        {"m": f"card {PAN}"},
        deep,
        {"m": "plain"},
        {"cvv": "123", "card": {"number": PAN}},
    ]
    before = {k: _count(k) for k in ("pan", "sad_key", "fail_closed")}
    r.redact_records(records, [0, 1, 3])
    assert records[0] == {"m": "card 411111******1111"}
    assert records[1][PLACEHOLDER_REASON_KEY] == "too_deep"
    assert records[2] == {"m": "plain"}
    assert records[3] == {"cvv": "[REDACTED]", "card": {"number": "411111******1111"}}
    assert _count("pan") == before["pan"] + 2
    assert _count("sad_key") == before["sad_key"] + 1
    assert _count("fail_closed") == before["fail_closed"] + 1


def test_batch_form_survives_a_failing_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    r = counted(RedactConfig())

    def boom(*groups: list[str]) -> set[str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(r.text, "needs_work", boom)
    records: list[dict[str, Any]] = [{"m": f"card {PAN}", "ok": "fine"}]
    r.redact_records(records, [0])
    assert records[0] == {"m": "card 411111******1111", "ok": "fine"}


def test_a_key_holding_a_card_is_masked_every_time_it_is_seen() -> None:
    """Keys' verdicts are cached: the second record with the same keys must get the same."""
    r = counted(RedactConfig())
    for _ in range(3):
        out = r.redact_record({"cvv": "123", PAN: "keyed by card", "expiry": "12/27"})
        assert not leaks(out, [PAN]), "a card used as a key was shipped"
        assert out["cvv"] == "[REDACTED]" and out["expiry"] == "**/**"


@pytest.mark.parametrize(
    "record",
    [
        {"DE2": "4111-1111-1111-1111"},  # grouped, under an ISO 8583 field-2 key
        {"f2": ["x", "4111 1111 1111 1111"]},  # inside a list under one
        {"field_002": {"pan": "4111111111111111"}},
        {"expiry": {"note": "card 4111111111111111"}},  # inside a container under expiry
        {"exp": ["12/27", "4111111111111111"]},
    ],
)
def test_cards_under_iso_and_expiry_keys_in_any_shape_are_masked(record: dict[str, Any]) -> None:
    """A regression: strings under these keys were not collected, so the walk's text
    passes never saw them (found by the JSON shortcut's comparison tests)."""
    out = counted(RedactConfig()).redact_record(record)
    assert "4111111111111111" not in str(out).replace(" ", "").replace("-", "")
