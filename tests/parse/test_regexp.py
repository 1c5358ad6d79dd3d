from __future__ import annotations

import pytest

from collector.parse import PARSE_ERROR_KEY
from tests.parse.helpers import ns, parse

PATTERN = (
    r"(?P<time>\S+) (?P<level>[A-Z]+) \[(?P<component>[^\]]+)\]"
    r"(?: took=(?P<took>\d+)ms)? (?P<message>.*)"
)


def test_named_groups_with_type_hints_and_time() -> None:
    lines = [
        b"2026-11-26T11:13:44.5Z INFO [settlement] took=42ms settled batch 7",
        b"2026-11-26T11:13:45Z WARN [settlement] retrying",
        b"no match here",
    ]
    result = parse("regex", lines, regex=PATTERN, types={"took": "int"})
    first, second, third = result.records
    assert first == {
        "time": "2026-11-26T11:13:44.5Z",
        "level": "INFO",
        "component": "settlement",
        "took": 42,
        "message": "settled batch 7",
    }
    assert "took" not in second  # a group that did not take part is left out
    assert third == {"message": "no match here", PARSE_ERROR_KEY: "no_match"}
    assert result.times == [ns("2026-11-26T11:13:44.5Z"), ns("2026-11-26T11:13:45Z"), 0]
    assert result.errors == {"no_match": 1}


def test_time_key_and_format_options() -> None:
    result = parse(
        "regex",
        [b"1764155624123 hello"],
        regex=r"(?P<at>\d+) (?P<message>.*)",
        time_key="at",
        time_format="epoch_ms",
        keep_time_key=False,
    )
    assert result.records == [{"message": "hello"}]
    assert result.times == [1764155624123 * 10**6]


def test_regex_option_is_required_and_checked() -> None:
    with pytest.raises(ValueError, match=r"^parser\.regex: required"):
        parse("regex", [b"x"])
    with pytest.raises(ValueError, match="named group"):
        parse("regex", [b"x"], regex=r"(\d+)")
    with pytest.raises(ValueError, match="does not compile"):
        parse("regex", [b"x"], regex=r"(?P<a>")
