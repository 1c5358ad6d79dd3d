from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.parse import PARSE_ERROR_KEY
from collector.parse.logfmt import _pairs_with_escapes, pairs
from tests.parse.helpers import ns, parse


def test_pairs_quoted_values_and_flags() -> None:
    line = (
        b'time=2026-11-26T11:13:44.123Z level=info msg="payment captured" '
        b'merchant="Caf\\u00e9 \\"Chez Nous\\"" path=/v1/pay?a=b&c=d empty= quoted_empty="" retry'
    )
    result = parse("logfmt", [line])
    assert result.records == [
        {
            "time": "2026-11-26T11:13:44.123Z",
            "level": "info",
            "msg": "payment captured",
            "merchant": 'Café "Chez Nous"',
            "path": "/v1/pay?a=b&c=d",
            "empty": "",
            "quoted_empty": "",
            "retry": True,
        }
    ]
    assert result.times == [ns("2026-11-26T11:13:44.123Z")]


def test_values_are_strings_unless_typed() -> None:
    line = b"ts=1764155624 status=200 duration=0.25 ok=true"
    plain = parse("logfmt", [line]).records[0]
    assert plain["status"] == "200"
    typed = parse("logfmt", [line], types={"status": "int", "duration": "float", "ok": "bool"})
    assert typed.records[0] == {"ts": "1764155624", "status": 200, "duration": 0.25, "ok": True}
    assert typed.times == [1764155624 * 10**9]


def test_slog_style_line_with_newline_escape() -> None:
    (record,) = parse(
        "logfmt", [b'level=ERROR msg="boom\\nsecond line" err="dial tcp: refused"']
    ).records
    assert record["msg"] == "boom\nsecond line"
    assert record["err"] == "dial tcp: refused"


def test_lines_that_are_not_logfmt() -> None:
    lines = [b'msg="unterminated', b'a=b"c', b"", b"   ", b"=value", b"\xff\x00"]
    result = parse("logfmt", lines)
    assert [r[PARSE_ERROR_KEY] for r in result.records] == ["no_match"] * len(lines)
    assert result.records[0]["message"] == 'msg="unterminated'


def test_unknown_escape_keeps_the_value_as_written() -> None:
    (record,) = parse("logfmt", [b'msg="a\\qb"']).records
    assert record["msg"] == "a\\qb"


_tokens = st.sampled_from(
    ["a", "b", "key", "=", '"', " ", "  ", "\t", "x y", "\\", '\\"', "v=1", "é", ".", "-"]
)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(_tokens, max_size=14))
def test_fast_split_path_agrees_with_the_regex(parts: list[str]) -> None:
    """Lines without escapes take a split-based path; the regex is the reference."""
    text = "".join(parts)
    if "\\" in text or "=" not in text:
        return
    assert pairs(text) == _pairs_with_escapes(text)
