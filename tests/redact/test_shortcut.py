"""The JSON shortcut (redact/shortcut.py) gives the walk's result, or lets the walk run.

Every generated JSON line goes through both roads: the records, the counters and what is
shipped must be the same; the shortcut must also be taken for the lines it is for (a card
in a message string), so the tests cannot pass by the shortcut always declining.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.metrics.internal import REDACTIONS
from collector.redact import Redactor
from collector.redact.config import RedactConfig
from collector.redact.counters import RedactCounters
from tests.redact.strategies import FORMS, pan_from_seed, pan_seeds, records
from tests.redact.support import leaks, same

POLICIES = ["keep_first6_last4", "keep_last4", "mask_all", "hmac"]

# The collector's own counter, handed in as the pipeline hands it (collector/pipeline.py).
COUNTED = RedactCounters(redactions=REDACTIONS)


def counted(cfg: RedactConfig) -> Redactor:
    return Redactor(cfg, COUNTED)


REDACTORS = {p: counted(RedactConfig(pan_policy=p, hmac_key="k" * 32)) for p in POLICIES}
PAN = "4111111111111111"

pytestmark = pytest.mark.skipif(
    REDACTORS["keep_first6_last4"]._shortcut is None, reason="the C extension is not built"
)

# What a card may sit in or next to: every written form, as a string value, a key, a
# number, next to SAD keys and look-alikes (12-digit Maestro-shaped ids, hex ids).
_PLACES = ["message", "key", "number", "nested", "list", "cvv", "exp", "DE2", "card"]


def _record(base: dict[str, Any], place: str, text: str, number: int) -> dict[str, Any]:
    record = dict(base)
    if place == "message":
        record["message"] = f"declined for card {text} ref=42"
    elif place == "key":
        record[text] = "x"
    elif place == "number":
        record = {"amount_ref": number, **record}
    elif place == "nested":
        record["payment"] = {"note": text, "id": "pay_1"}
    elif place == "list":
        record["notes"] = ["a", text, {"deep": [text]}]
    else:
        record[place] = text  # a SAD, expiry, ISO field-2 or card-ish key
    return record


_TEXTS = st.one_of(
    st.builds(
        lambda seed, form: FORMS[form](pan_from_seed(seed)),
        pan_seeds,
        st.sampled_from(sorted(FORMS)),
    ),
    st.sampled_from(["500000000009", "pay_500000000009", "ab4111111111111111cd", "plain text"]),
    st.text("0123456789 -.", min_size=12, max_size=24),
)
_LINES = st.builds(
    lambda base, place, text, seed: msgspec.json.encode(
        _record(base, place, text, int(pan_from_seed(seed)))
    ),
    records,
    st.sampled_from(_PLACES),
    _TEXTS,
    pan_seeds,
)


def _both_roads(redactor: Redactor, lines: list[bytes]) -> tuple[Any, Any, list[int]]:
    flagged = redactor.scan(lines)
    walked = [msgspec.json.decode(line) for line in lines]
    counts_walk = _counting(redactor, lambda: redactor.redact_records(walked, flagged))
    short = [msgspec.json.decode(line) for line in lines]
    rest: list[int] = []

    def shortcut() -> None:
        rest.extend(redactor.redact_json(lines, short, flagged))
        redactor.redact_records(short, rest)

    counts_short = _counting(redactor, shortcut)
    return (walked, counts_walk), (short, counts_short), [i for i in flagged if i not in rest]


def _counting(redactor: Redactor, run: Any) -> dict[str, float]:
    from collector.metrics.internal import REDACTIONS

    def values() -> dict[str, float]:
        return {
            s.labels["rule"]: s.value
            for metric in REDACTIONS.collect()
            for s in metric.samples
            if s.name.endswith("_total")
        }

    before = values()
    run()
    after = values()
    return {k: after[k] - before.get(k, 0.0) for k in after if after[k] != before.get(k, 0.0)}


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_LINES, min_size=1, max_size=6), policy=st.sampled_from(POLICIES))
def test_the_shortcut_gives_the_walks_records_and_counts(lines: list[bytes], policy: str) -> None:
    (walked, counts_walk), (short, counts_short), _ = _both_roads(REDACTORS[policy], lines)
    for i, (a, b) in enumerate(zip(walked, short, strict=True)):
        assert same(a, b), f"line {i}: the shortcut and the walk differ"
    assert counts_short == counts_walk


def test_the_shortcut_is_taken_for_a_card_in_a_message() -> None:
    redactor = REDACTORS["keep_first6_last4"]
    lines = [
        msgspec.json.encode({"level": "WARN", "message": f"card {PAN} declined", "n": 1}),
        msgspec.json.encode({"payment": {"notes": ["x", "4111 1111 1111 1111"]}}),
    ]
    (walked, _), (short, _), taken = _both_roads(redactor, lines)
    assert taken == [0, 1], "both lines hold only cards in strings"
    assert all(same(a, b) for a, b in zip(walked, short, strict=True))
    assert not leaks(short, [PAN])


@pytest.mark.parametrize(
    "record",
    [
        {"message": f"card {PAN}", "cvv": "123"},  # a SAD key
        {"message": f"card {PAN}", "amount": 4111111111111111},  # a card as a number
        {"amount": 4111111111111111, "note": "x"},  # ... followed by a string
        {PAN: "x"},  # a card as a key
        {"message": "card 500000000009"},  # 12 digits: the key decides
        {"message": f"card {PAN}\\n"},  # an escape in the line
        {"message": f"caf\u00e9 {PAN}"},  # not ASCII
        {"message": f"%34{PAN}"},  # a percent sign
        {"a": {"b": {"c": {"d": [f"{PAN}"]}}}},  # deeper than max_depth (3 here)
    ],
)
def test_the_shortcut_declines_what_the_walk_must_judge(record: dict[str, Any]) -> None:
    redactor = counted(RedactConfig(max_depth=3))
    line = msgspec.json.encode(record)
    assert redactor._shortcut is not None
    assert redactor._shortcut.cards_in_strings(line) is None


def test_custom_rules_turn_the_shortcut_off() -> None:
    rule = {"name": "ref", "pattern": "ref=[0-9]+", "replacement": "ref=*"}
    redactor = counted(msgspec.convert({"custom_rules": [rule]}, RedactConfig))
    assert redactor._shortcut is None
    record = {"message": f"card {PAN} ref=42"}
    line = msgspec.json.encode(record)
    assert redactor.redact_json([line], [copy.deepcopy(record)], [0]) == [0]
