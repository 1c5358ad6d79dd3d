"""`format: regex` — a user regex with named groups; also the engine of nginx and Envoy text.

One compiled pattern, one `search` per line, one dict per match: the groups that took part
in the match become fields (groups that did not are left out rather than set to null).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from collector.parse.config import ParserOptions
from collector.parse.eventtime import EventTimes
from collector.parse.fields import apply_types
from collector.parse.result import ParseResult, unparsed

Build = Callable[[re.Match[str]], dict[str, Any]]


def groups_of(m: re.Match[str]) -> dict[str, Any]:
    return {k: v for k, v in m.groupdict().items() if v is not None}


def match_lines(
    lines: list[bytes],
    search: Callable[[str], re.Match[str] | None],
    build: Build,
    message_key: str,
    errors: dict[str, int],
) -> list[dict[str, Any]]:
    """One record per line: `build(match)`, or the text flagged `no_match`."""
    records: list[dict[str, Any]] = []
    append = records.append
    for line in lines:
        text = line.decode("utf-8", "replace")
        m = search(text)
        append(unparsed(text, "no_match", message_key, errors) if m is None else build(m))
    return records


class RegexParser:
    def __init__(self, options: ParserOptions) -> None:
        if not options.regex:
            raise ValueError("parser.regex: required when format is regex")
        self._pattern = re.compile(options.regex)
        self._message_key = options.message_key
        self._types = options.types
        default_keys = ("time",) if "time" in self._pattern.groupindex else ()
        self._times = EventTimes(default_keys, options)

    def parse(self, lines: list[bytes]) -> ParseResult:
        errors: dict[str, int] = {}
        records = match_lines(lines, self._pattern.search, groups_of, self._message_key, errors)
        if self._types:
            apply_types(records, self._types)
        return ParseResult(records, self._times.of(records), errors)
