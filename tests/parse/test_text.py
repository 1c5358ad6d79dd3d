from __future__ import annotations

from tests.parse.helpers import parse


def test_text_is_the_line_as_message() -> None:
    result = parse("text", [b"hello world", b"caf\xe9", b""])
    assert result.records == [{"message": "hello world"}, {"message": "caf\ufffd"}, {"message": ""}]
    assert result.times is None
    assert result.errors == {}


def test_raw_mode_uses_message_key() -> None:
    assert parse("text", [b"x"], message_key="log").records == [{"log": "x"}]
