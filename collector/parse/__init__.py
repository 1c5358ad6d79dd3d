"""Lines to records: one parser per source, chosen by `format:`.

Every parser takes a batch of lines and returns exactly one record per line (a line that
does not parse becomes `{"message": <text>, "_parse_error": <reason>}`), the event times,
and error counts. No parser raises on any bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from collector.parse.config import ParserOptions
from collector.parse.envoy import EnvoyParser
from collector.parse.jsonlines import JsonParser
from collector.parse.logfmt import LogfmtParser
from collector.parse.nginx import NginxParser
from collector.parse.regexp import RegexParser
from collector.parse.result import PARSE_ERROR_KEY, Parser, ParseResult
from collector.parse.spring import SpringParser
from collector.parse.text import TextParser

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


def make_parser(format: str, options: ParserOptions) -> Parser:
    """The parser of `format` with `options`; raises ValueError naming the key that does not
    fit (`format: ...`, or the option's own name), for the caller to prefix with its place."""
    try:
        factory = FORMATS[format]
    except KeyError:
        raise ValueError(
            f"format: unknown format {format!r} (known: {', '.join(FORMATS)})"
        ) from None
    return factory(options)
