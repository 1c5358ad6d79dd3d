"""Lines to records: one parser per source, chosen by `format:`.

Every parser takes a batch of lines and returns exactly one record per line (a line that
does not parse becomes `{"message": <text>, "_parse_error": <reason>}`), the event times,
and error counts. No parser raises on any bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from collector.parse.config import ParserOptions
from collector.parse.envoy import EnvoyParser
from collector.parse.jsonlines import JsonParser
from collector.parse.logfmt import LogfmtParser
from collector.parse.nginx import NginxParser
from collector.parse.regexp import RegexParser
from collector.parse.result import PARSE_ERROR_KEY, Parser, ParseResult
from collector.parse.spring import SpringParser
from collector.parse.text import TextParser

if TYPE_CHECKING:  # tail.config imports parse.config; a runtime import here would cycle
    from collector.tail.config import SourceConfig

__all__ = ["FORMATS", "PARSE_ERROR_KEY", "ParseResult", "Parser", "make_parser"]

FORMATS: dict[str, Callable[[ParserOptions], Parser]] = {
    "json": JsonParser,
    "spring": SpringParser,
    "envoy": EnvoyParser,
    "nginx": NginxParser,
    "logfmt": LogfmtParser,
    "regex": RegexParser,
    "text": TextParser,
}


def make_parser(source: SourceConfig) -> Parser:
    """The parser of `source`; raises ValueError naming the source when options do not fit."""
    try:
        factory = FORMATS[source.format]
    except KeyError:
        raise ValueError(
            f"sources[{source.name}].format: unknown format {source.format!r} "
            f"(known: {', '.join(FORMATS)})"
        ) from None
    try:
        return factory(source.parser)
    except ValueError as e:
        raise ValueError(f"sources[{source.name}].{e}") from None
