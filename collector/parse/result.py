"""What every parser returns, and the one shape of a line that did not parse."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

PARSE_ERROR_KEY = "_parse_error"


class ParseResult(msgspec.Struct):
    """Records of one batch of lines, in line order.

    `records` has exactly one record per input line, so the pipeline can zip them with
    per-line flags and offsets. `times` holds the event time of each record in Unix
    nanoseconds (0 where the line had none: the pipeline then uses the read time), or is
    None when no record of the batch had one. `errors` counts lines that did not parse, by
    reason, for `collector_parse_errors_total`.
    """

    records: list[dict[str, Any]]
    times: list[int] | None
    errors: dict[str, int]


class Parser(Protocol):
    def parse(self, lines: list[bytes]) -> ParseResult: ...


def text_of(line: bytes) -> str:
    """The line as text; invalid UTF-8 becomes U+FFFD so nothing raises downstream."""
    return line.decode("utf-8", "replace")


def unparsed(text: str, reason: str, message_key: str, errors: dict[str, int]) -> dict[str, Any]:
    """The record of a line that did not parse: the whole text, flagged, and counted.

    Keeping the whole text (not a prefix) matters: the redactor must see every character
    of the line to mask card data in it.
    """
    errors[reason] = errors.get(reason, 0) + 1
    return {message_key: text, PARSE_ERROR_KEY: reason}
