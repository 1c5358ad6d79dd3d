"""Property: every parser takes any bytes, never raises, and keeps one record per line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.parse import FORMATS, PARSE_ERROR_KEY
from tests.parse.helpers import parse

_fragments = st.sampled_from(
    [
        b"\xef\xbb\xbf",
        b"{",
        b"}",
        b'"',
        b"\\",
        b"=",
        b" ",
        b"\n",
        b"\t",
        b"[",
        b"]",
        b"-",
        b":",
        b",",
        b'{"time":"2026-11-26T11:13:44.123Z","a":1}',
        b"2026-11-26T11:13:44.123Z",
        b"1764155624",
        b"INFO 1 --- [main] a.B : ",
        b'"GET / HTTP/1.1" 200 ',
        b'key="v\\"" ',
        b"\xff\xfe",
        b"\xe2\x82",
        b"\x00",
        b"1e400",
        b"\\ud800",
    ]
)
_lines = st.lists(
    st.one_of(st.binary(max_size=120), st.lists(_fragments, max_size=12).map(b"".join)),
    max_size=12,
)


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(max_examples=150, deadline=None)
@given(lines=_lines)
def test_parse_never_raises_and_keeps_one_record_per_line(fmt: str, lines: list[bytes]) -> None:
    options = {"regex": r"(?P<time>\S+) (?P<message>.*)"} if fmt == "regex" else {}
    result = parse(fmt, lines, **options)
    assert len(result.records) == len(lines)
    assert result.times is None or len(result.times) == len(lines)
    assert result.times is None or all(0 <= t < 2**32 * 10**9 for t in result.times)
    flagged = 0
    for line, record in zip(lines, result.records, strict=True):
        assert isinstance(record, dict)
        if PARSE_ERROR_KEY in record:
            flagged += 1
            assert record["message"] == line.decode("utf-8", "replace")
    assert sum(result.errors.values()) == flagged
