from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.parse import PARSE_ERROR_KEY
from tests.parse.helpers import ns, parse


def test_objects_keep_numbers_nesting_and_unicode() -> None:
    line = (
        b'{"time":"2026-11-26T11:13:44.123456789Z","amount":12999,'
        b'"big":123456789012345678901234567890,'
        b'"neg":-9223372036854775809,"ratio":0.1,"ok":true,"none":null,'
        b'"payment":{"id":"pay_1","tags":["a",{"b":[1,2]}]},'
        b'"merchant":"Caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00"}'
    )
    result = parse("json", [line])
    (record,) = result.records
    assert record["big"] == 123456789012345678901234567890
    assert record["neg"] == -9223372036854775809
    assert record["ratio"] == 0.1 and record["ok"] is True and record["none"] is None
    assert record["payment"] == {"id": "pay_1", "tags": ["a", {"b": [1, 2]}]}
    assert record["merchant"] == "Café € 😀"
    assert result.times == [ns("2026-11-26T11:13:44.123456789Z")]
    assert result.errors == {}


def test_non_object_values_are_wrapped() -> None:
    result = parse("json", [b"[1,2]", b'"just a string"', b"42", b"null"])
    assert result.records == [
        {"message": [1, 2]},
        {"message": "just a string"},
        {"message": 42},
        {"message": None},
    ]
    assert result.errors == {}


def test_a_bad_line_is_shipped_as_text_and_the_rest_stay_aligned() -> None:
    lines = [b'{"n":1}', b'{"n":2', b"", b"not json at all", b'{"n":5}', b'{"a":1e400}']
    result = parse("json", lines)
    assert len(result.records) == len(lines)
    assert result.records[0] == {"n": 1}
    assert result.records[1] == {"message": '{"n":2', PARSE_ERROR_KEY: "invalid_json"}
    assert result.records[2] == {"message": "", PARSE_ERROR_KEY: "invalid_json"}
    assert result.records[3] == {"message": "not json at all", PARSE_ERROR_KEY: "invalid_json"}
    assert result.records[4] == {"n": 5}
    assert result.records[5][PARSE_ERROR_KEY] == "invalid_json"
    assert result.errors == {"invalid_json": 4}


def test_two_broken_halves_are_not_merged_into_one_value() -> None:
    # Joined with "," these two would decode as one array of two values.
    result = parse("json", [b'"x",[1', b"2]"])
    assert [r.get(PARSE_ERROR_KEY) for r in result.records] == ["invalid_json", "invalid_json"]


def test_invalid_utf8_inside_json_is_replaced_not_fatal() -> None:
    result = parse("json", [b'{"msg":"caf\xe9 ok"}'])
    assert result.records == [{"msg": "caf\ufffd ok"}]
    assert result.errors == {}


def test_error_text_keeps_every_character() -> None:
    line = "brok\u00e9n {json with card 4111 1111 1111 1111 inside".encode()
    (record,) = parse("json", [line]).records
    kept_whole = record["message"] == line.decode()
    assert kept_whole, "the error record must carry the whole line for the redactor"


def test_message_key_option_is_used_for_wrapping_and_errors() -> None:
    result = parse("json", [b"[1]", b"{bad"], message_key="log")
    assert result.records == [{"log": [1]}, {"log": "{bad", PARSE_ERROR_KEY: "invalid_json"}]


def test_default_time_fields() -> None:
    lines = [
        b'{"@timestamp":"2026-11-26T11:13:44.5+00:00"}',
        b'{"timestamp":1764155624000}',
        b'{"ts":1764155624.25}',
        b'{"msg":"no time"}',
    ]
    times = parse("json", lines).times
    assert times is not None
    assert times[0] == ns("2026-11-26T11:13:44.5Z")
    assert times[1] == 1764155624 * 10**9
    assert times[2] == 1764155624_250_000_000
    assert times[3] == 0


def test_times_is_none_when_no_line_has_one() -> None:
    assert parse("json", [b'{"a":1}', b"junk"]).times is None


def test_type_hints_convert_and_never_lose_values() -> None:
    result = parse(
        "json",
        [b'{"amount":"12","rate":"0.5","ok":"yes","code":42,"bad":"x12"}'],
        types={"amount": "int", "rate": "float", "ok": "bool", "code": "str", "bad": "int"},
    )
    assert result.records == [{"amount": 12, "rate": 0.5, "ok": True, "code": "42", "bad": "x12"}]


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(objects=st.lists(st.dictionaries(st.text(max_size=8), _values, max_size=6), max_size=8))
def test_any_json_object_comes_back_equal(objects: list[dict[str, object]]) -> None:
    lines = [json.dumps(o, ensure_ascii=bool(i % 2)).encode() for i, o in enumerate(objects)]
    result = parse("json", lines)
    assert result.records == objects
    assert result.errors == {}


def test_a_byte_order_mark_before_the_first_line_is_skipped() -> None:
    result = parse("json", [b'\xef\xbb\xbf{"a":1}', b'{"a":2}', b"\xef\xbb\xbfjunk"])
    assert result.records[:2] == [{"a": 1}, {"a": 2}]
    assert result.records[2]["message"] == "\ufeffjunk"  # an error record keeps every character
