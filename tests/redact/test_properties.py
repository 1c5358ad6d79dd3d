"""Property tests over the whole road out: pre-scan, parse, careful walk.

A card of any brand and length, written in any supported form, planted anywhere in a
random JSON record or a line of text, must not be readable in what is shipped (digits
compared after undoing escapes and dropping separators); SAD must be gone; everything
that held no card data must come out identical.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from tests.redact.strategies import FORMS, filler, pan_from_seed, pan_seeds, records, sad_keys
from tests.redact.support import leaks, same, ship, ship_raw, visible_cards

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICIES = ["keep_first6_last4", "keep_last4", "mask_all", "hmac"]


def _redactor(policy: str = "keep_first6_last4", engine: str = "auto") -> Redactor:
    return Redactor(RedactConfig(pan_policy=policy, hmac_key="k" * 32, scan_engine=engine))


REDACTORS = {p: _redactor(p) for p in POLICIES}
REDACTOR_RE = _redactor(engine="re")


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of containers where a value can be planted."""
    out = [path] if isinstance(node, dict | list) else []
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*path, i)))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


PLANT_KEY = "planted"


def _plant(record: dict[str, Any], path: tuple[Any, ...], value: Any, as_key: bool) -> None:
    target = _get(record, path)
    if isinstance(target, list):
        target.append({value: "x"} if as_key else value)
    elif as_key:
        target[value] = "x"
    else:
        target[PLANT_KEY] = value


def _unplant(record: Any, path: tuple[Any, ...], as_key: bool) -> None:
    target = _get(record, path)
    if isinstance(target, list):
        target.pop()
    elif as_key:
        target.popitem()  # the planted key was inserted last; redaction keeps key order
    else:
        del target[PLANT_KEY]


def _escape_digits(line: bytes, value: str) -> bytes:
    """The line with the planted string's digits written as JSON \\u escapes."""
    encoded = msgspec.json.encode(value)[1:-1]
    escaped = re.sub(rb"[0-9]", lambda m: b"\\u003" + m.group(), encoded)
    return line.replace(encoded, escaped, 1)


@SETTINGS
@given(
    record=records,
    seed=pan_seeds,
    form=st.sampled_from(sorted(FORMS)),
    where=st.integers(0, 1000),
    as_key=st.booleans(),
    as_number=st.booleans(),
    escape_line=st.booleans(),
    prefix=filler,
    suffix=filler,
    policy=st.sampled_from(POLICIES),
)
def test_planted_card_never_ships_and_the_rest_is_untouched(
    record: dict[str, Any],
    seed: tuple[int, int],
    form: str,
    where: int,
    as_key: bool,
    as_number: bool,
    escape_line: bool,
    prefix: str,
    suffix: str,
    policy: str,
) -> None:
    pan = pan_from_seed(seed)
    original = msgspec.json.decode(msgspec.json.encode(record))
    paths = _paths(record)
    path = paths[where % len(paths)]
    if as_number and not as_key:
        value: Any = int(pan)
    else:
        value = " ".join(s for s in (prefix, FORMS[form](pan), suffix) if s)
    _plant(record, path, value, as_key)
    line = msgspec.json.encode(record)
    if escape_line and isinstance(value, str):
        line = _escape_digits(line, value)

    shipped = ship(REDACTORS[policy], [line])[0]

    assert not leaks(shipped, [pan]), f"card leaked: form={form} key={as_key} number={as_number}"
    assert visible_cards(shipped) == 0, f"a card-shaped run is visible: form={form}"
    _unplant(shipped, path, as_key)
    assert same(shipped, original), f"fields without card data changed: form={form}"


@SETTINGS
@given(
    seed=pan_seeds,
    form=st.sampled_from(sorted(FORMS)),
    prefix=filler,
    suffix=filler,
    policy=st.sampled_from(POLICIES),
)
def test_card_in_raw_text_line_never_ships(
    seed: tuple[int, int], form: str, prefix: str, suffix: str, policy: str
) -> None:
    pan = pan_from_seed(seed)
    line = " ".join(s for s in (prefix, FORMS[form](pan), suffix) if s).encode()
    shipped = ship_raw(REDACTORS[policy], [b"plain line", line])
    assert shipped[0] == "plain line"
    assert not leaks(shipped[1], [pan]), f"card leaked from raw text: form={form}"
    assert visible_cards(shipped[1]) == 0, f"a card-shaped run is visible: form={form}"


@SETTINGS
@given(
    record=records, key=sad_keys, value=st.from_regex(r"[0-9]{3,4}|[0-9A-F]{16}", fullmatch=True)
)
def test_sad_under_any_key_spelling_is_removed(
    record: dict[str, Any], key: str, value: str
) -> None:
    original = msgspec.json.decode(msgspec.json.encode(record))
    record = {**record, key: value}
    shipped = ship(REDACTORS["keep_first6_last4"], [msgspec.json.encode(record)])[0]
    assert shipped[key] != value, "SAD value shipped under its key"
    del shipped[key]
    assert same(shipped, original), "fields without SAD changed"


@SETTINGS
@given(
    key=sad_keys,
    value=st.from_regex(r"[0-9]{3,4}", fullmatch=True),
    shape=st.sampled_from(
        ["{k}={v}&x=1", '{{"{k}":"{v}"}}', "<{k}>{v}</{k}>", "{k}: {v}", '{{\\"{k}\\":\\"{v}\\"}}']
    ),
    prefix=filler,
)
def test_sad_written_inside_text_is_removed(key: str, value: str, shape: str, prefix: str) -> None:
    text = f"{prefix} {shape.format(k=key, v=value)}"
    line = msgspec.json.encode({"msg": text})
    shipped = ship(REDACTORS["keep_first6_last4"], [line])[0]["msg"]
    assert value not in shipped.replace(prefix, ""), f"SAD value kept in text: shape={shape!r}"


@settings(max_examples=150, deadline=None)
@given(batch=st.lists(st.tuples(records, st.one_of(st.none(), pan_seeds)), min_size=1, max_size=8))
def test_scan_flags_every_line_the_walk_would_change(
    batch: list[tuple[dict[str, Any], tuple[int, int] | None]],
) -> None:
    lines = []
    for record, seed in batch:
        if seed is not None:
            record = {**record, "msg": f"card {pan_from_seed(seed)}"}
        lines.append(msgspec.json.encode(record))
    for redactor in (REDACTORS["keep_first6_last4"], REDACTOR_RE):
        flagged = set(redactor.scan(lines))
        for i, line in enumerate(lines):
            redacted = redactor.redact_record(msgspec.json.decode(line))
            changed = not same(redacted, msgspec.json.decode(line))
            assert not changed or i in flagged, f"line {i} changed by the walk but not flagged"
        assert {i for i, (_, seed) in enumerate(batch) if seed is not None} <= flagged


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_is_found_by_both_engines(form: str) -> None:
    pan = "4111111111111111"
    line = msgspec.json.encode({"msg": FORMS[form](pan)})
    for redactor in (REDACTORS["keep_first6_last4"], REDACTOR_RE):
        assert redactor.scan([b"{}", line]) == [1], f"scan missed form {form}"
        assert not leaks(ship(redactor, [line]), [pan]), f"form {form} leaked"


GLUE = "".join(chr(c) for c in range(33, 127) if not chr(c).isdigit())
HEX = set("0123456789abcdefABCDEF")
_LETTERS_END = re.compile(r"(?:%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4})?([A-Za-z]*)$")
_LETTERS_START = re.compile(r"[A-Za-z]*")


def _glued_only_to_hex_letters(text: str, pan: str) -> bool:
    """Whether the PAN, written out whole, has hex letters and no other letters glued to
    it (letters that end an escape such as `\\u003a` do not count)."""
    at = text.find(pan)
    if at < 0:
        return False
    before = _LETTERS_END.search(text[:at])
    escaped = before is not None and before.group(0) != before.group(1)
    glued = ("" if escaped else before.group(1) if before else "") + _LETTERS_START.match(
        text, at + len(pan)
    ).group()  # type: ignore[union-attr]
    return bool(glued) and set(glued) <= HEX


@settings(max_examples=400, deadline=None)
@given(
    seed=pan_seeds,
    form=st.sampled_from(["plain", "space", "dash", "dot", "plus", "pct20"]),
    before=st.text(GLUE, max_size=3),
    after=st.text(GLUE, max_size=3),
)
def test_card_glued_to_any_punctuation_or_letters(
    seed: tuple[int, int], form: str, before: str, after: str
) -> None:
    pan = pan_from_seed(seed)
    text = f"{before}{FORMS[form](pan)}{after}"
    if _glued_only_to_hex_letters(text, pan):
        return  # 12+ digits glued only to hex letters (ids, hashes) are documented as not cards
    if form == "iso_message" and before[-1:] in HEX:
        return  # an ISO 8583 message glued to a hex run is documented as not recognised
    if before.endswith("+") and not before[-2:-1].isalnum() and len(pan) <= 15:
        return  # `+` at a word start and at most 15 digits: the `e164_phone` exemption
    for shipped in (
        ship(REDACTORS["keep_first6_last4"], [msgspec.json.encode({"m": text})])[0],
        ship_raw(REDACTORS["keep_first6_last4"], [text.encode()])[0],
    ):
        assert not leaks(shipped, [pan]), f"glued card leaked: form={form}"
        assert visible_cards(shipped) == 0, f"glued card visible: form={form}"


# Keys the walk treats specially (ISO 8583 field 2, expiry, card-ish): a card under them in
# any shape must go too. (A grouped card under `DE2` and cards inside containers under
# `expiry` once shipped as written.)
SPECIAL_KEYS = [
    "DE2",
    "f2",
    "2",
    "field_002",
    "exp",
    "expiry",
    "validThru",
    "card",
    "pan",
    "cardNumber",
]


@SETTINGS
@given(
    seed=pan_seeds,
    form=st.sampled_from(sorted(FORMS)),
    key=st.sampled_from(SPECIAL_KEYS),
    shape=st.sampled_from(["value", "list", "object", "deep"]),
    base=records,
)
def test_card_under_a_special_key_in_any_shape_never_ships(
    seed: tuple[int, int], form: str, key: str, shape: str, base: dict[str, Any]
) -> None:
    pan = pan_from_seed(seed)
    text = FORMS[form](pan)
    value: Any = {
        "value": text,
        "list": ["x", text],
        "object": {"note": text},
        "deep": {"a": [{"b": text}]},
    }[shape]
    line = msgspec.json.encode({**base, key: value})
    for redactor in (REDACTORS["keep_first6_last4"], REDACTOR_RE):
        assert not leaks(ship(redactor, [line]), [pan]), (
            f"leaked: key={key} shape={shape} form={form}"
        )
