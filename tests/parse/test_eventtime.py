from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.parse.config import ParserOptions
from collector.parse.eventtime import EventTimes, TimeConverter
from tests.parse.helpers import ns

BASE = ns("2026-11-26T11:13:44Z")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-26T11:13:44Z", BASE),
        ("2026-11-26T11:13:44.123Z", BASE + 123_000_000),
        ("2026-11-26T11:13:44.123456Z", BASE + 123_456_000),
        ("2026-11-26T11:13:44.123456789Z", BASE + 123_456_789),
        ("2026-11-26T11:13:44.123456789123Z", BASE + 123_456_789),  # beyond ns: cut
        ("2026-11-26T11:13:44.1Z", BASE + 100_000_000),
        ("2026-11-26T13:13:44.5+02:00", BASE + 500_000_000),
        ("2026-11-26T06:13:44-0500", BASE),
        ("2026-11-26T11:13:44.250+00:00", BASE + 250_000_000),
        ("2026-11-26 11:13:44,007", BASE + 7_000_000),  # Python logging / Boot 2: no zone
        ("2026-11-26t11:13:44z", BASE),
        ("2026-11-26T11:13:44.000Z", BASE),
    ],
)
def test_rfc3339_forms_keep_nanoseconds(value: str, expected: int) -> None:
    converter = TimeConverter()
    assert converter.one(value) == expected
    assert converter.many([value]) == [expected]
    assert converter.many([value, value]) == [expected, expected]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-26T25:00:00Z",
        "2026-11-26T11:13:44.12x4Z",
        "2026-11-26T11:13:44.123Zjunk",
        "1969-12-31T23:59:59Z",
        "9999-01-01T00:00:00Z",
        None,
        True,
        [],
        {},
        float("nan"),
        -5,
        2**80,
    ],
)
def test_values_that_give_no_time(value: object) -> None:
    converter = TimeConverter()
    assert converter.one(value) == 0
    assert converter.many([value]) == [0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1764155624, 1764155624 * 10**9),  # seconds
        (1764155624123, 1764155624123 * 10**6),  # millis
        (1764155624123456, 1764155624123456 * 10**3),  # micros
        (1764155624123456789, 1764155624123456789),  # nanos
        ("1764155624.123456789", 1764155624123456789),
        ("1764155624123", 1764155624123 * 10**6),
    ],
)
def test_epoch_magnitude_picks_the_unit(value: object, expected: int) -> None:
    assert TimeConverter().one(value) == expected


def test_epoch_float_is_close_to_the_microsecond() -> None:
    got = TimeConverter().one(1764155624.123456)
    assert abs(got - 1764155624_123_456_000) < 1_000


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("epoch", 1764155624, 1764155624 * 10**9),
        ("epoch", "1764155624.5", 1764155624_500_000_000),
        ("epoch_ms", 1764155624123, 1764155624123 * 10**6),
        ("epoch_ms", "1764155624123.5", 1764155624123_500_000),
        ("epoch_us", 1764155624123456, 1764155624123456 * 10**3),
        ("epoch_ns", 1764155624123456789, 1764155624123456789),
        ("epoch", "2026-11-26T11:13:44Z", 0),
        ("rfc3339", 1764155624, 0),
        ("%d/%b/%Y:%H:%M:%S %z", "26/Nov/2026:12:13:44 +0100", BASE),
        ("%Y%m%d %H%M%S", "20261126 111344", BASE),
        ("%Y%m%d %H%M%S", "not it", 0),
    ],
)
def test_explicit_formats(fmt: str, value: object, expected: int) -> None:
    assert TimeConverter(fmt).one(value) == expected


def test_common_log_format_in_auto_mode() -> None:
    assert TimeConverter().one("26/Nov/2026:03:13:44 -0800") == BASE


@pytest.mark.parametrize(
    ("zone", "value", "expected"),
    [
        ("UTC", "2026-11-26 11:13:44.000", BASE),
        ("+02:00", "2026-11-26 13:13:44.000", BASE),
        ("Europe/Berlin", "2026-11-26 12:13:44.000", BASE),  # winter: +01:00
        ("Europe/Berlin", "2026-07-01 12:00:00.000", ns("2026-07-01T10:00:00Z")),  # summer
        ("Europe/Berlin", "2026-11-26T11:13:44.000Z", BASE),  # an explicit zone wins
    ],
)
def test_times_without_offset_take_the_configured_zone(
    zone: str, value: str, expected: int
) -> None:
    converter = TimeConverter("auto", zone)
    assert converter.one(value) == expected
    assert converter.many([value] * 3) == [expected] * 3


def test_a_batch_of_mixed_layouts_falls_back_value_by_value() -> None:
    values = [
        "2026-11-26T11:13:44.123Z",
        "2026-11-26T11:13:44.123456789Z",
        None,
        1764155624,
        "garbage",
        "2026-11-26T11:13:44+01:00",
    ]
    got = TimeConverter().many(values)
    assert got == [
        BASE + 123_000_000,
        BASE + 123_456_789,
        0,
        1764155624 * 10**9,
        0,
        BASE - 3600 * 10**9,
    ]


_layouts = st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2105, 12, 30)),
        min_size=1,
        max_size=20,
    ),
    nanos=st.integers(0, 999),
    digits=st.integers(0, 9),
    offset_minutes=st.sampled_from([0, 60, -300, 330, None]),
    layout=_layouts,
)
def test_fast_batch_path_agrees_with_datetime(
    moments: list[datetime], nanos: int, digits: int, offset_minutes: int | None, layout: str
) -> None:
    """Whatever layout a batch has, `many` gives what datetime arithmetic gives."""
    values, expected = [], []
    for moment in moments:
        exact_ns = moment.microsecond * 1000 + nanos
        text = moment.strftime(layout)
        if digits:
            text += "." + f"{exact_ns:09d}"[:digits]
        kept_ns = int(f"{exact_ns:09d}"[:digits].ljust(9, "0")) if digits else 0
        if offset_minutes is None:
            text += "Z"
            tz = UTC
        else:
            sign = "+" if offset_minutes >= 0 else "-"
            text += f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
            tz = timezone(timedelta(minutes=offset_minutes))
        aware = moment.replace(microsecond=0, tzinfo=tz)
        values.append(text)
        expected.append(int(aware.timestamp()) * 10**9 + kept_ns)
    converter = TimeConverter()
    assert converter.many(values) == expected
    assert [converter.one(v) for v in values] == expected


def test_default_keys_are_tried_in_order_per_record() -> None:
    times = EventTimes(("time", "ts"), ParserOptions())
    records = [{"time": "2026-11-26T11:13:44Z"}, {"ts": 1764155624}, {"other": 1}]
    assert times.of(records) == [BASE, 1764155624 * 10**9, 0]


def test_time_key_option_replaces_the_defaults() -> None:
    times = EventTimes(("time",), ParserOptions(time_key="when"))
    assert times.of([{"time": "2026-11-26T11:13:44Z", "when": 1}]) == [10**9]


def test_no_time_at_all_gives_none() -> None:
    times = EventTimes(("time",), ParserOptions())
    assert times.of([{"a": 1}, {"time": "soon"}]) is None


def test_keep_time_key_false_removes_only_values_that_parsed() -> None:
    times = EventTimes(("time",), ParserOptions(keep_time_key=False))
    records = [{"time": "2026-11-26T11:13:44Z", "a": 1}, {"time": "soon", "a": 2}]
    assert times.of(records) == [BASE, 0]
    assert records == [{"a": 1}, {"time": "soon", "a": 2}]


def test_records_without_a_time_do_not_spoil_the_batch() -> None:
    value = "2026-11-26T11:13:44.123Z"
    t = BASE + 123_000_000
    assert TimeConverter().many([None, value, None, value]) == [0, t, 0, t]
    assert TimeConverter().many([None, None]) == [0, 0]
