from __future__ import annotations

import typing

import msgspec
import pytest

from collector.parse import FORMATS, make_parser
from collector.parse.config import ParserOptions
from collector.route.config import SourceConfig


def test_every_configurable_format_has_a_parser() -> None:
    field = next(f for f in msgspec.structs.fields(SourceConfig) if f.name == "format")
    assert set(typing.get_args(field.type)) == set(FORMATS)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_parser_handles_an_empty_batch(fmt: str) -> None:
    options = ParserOptions(regex="(?P<message>.*)") if fmt == "regex" else ParserOptions()
    parser = make_parser(fmt, options)
    result = parser.parse([])
    assert result.records == [] and result.errors == {}
    assert result.times is None


def test_an_unknown_format_is_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"^format: unknown format 'xml' \(known: json, "):
        make_parser("xml", ParserOptions())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time_format": "sometimes"}, "time_format"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"message_key": ""}, "message_key"),
        ({"regex": "(?P<a>"}, "does not compile"),
    ],
)
def test_bad_options_are_refused_with_their_name(options: dict[str, str], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.convert(options, ParserOptions)
