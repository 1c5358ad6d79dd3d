"""Options of the parsers (`sources[].parser`)."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

TIME_FORMATS = ("auto", "rfc3339", "epoch", "epoch_ms", "epoch_us", "epoch_ns")
_OFFSET = re.compile(r"^[+-]\d\d:?\d\d$")


class ParserOptions(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Per-source parser options; each format reads the ones it needs.

    `time_key`/`time_format` pick the event time from the record (RFC 3339 and epoch
    seconds/millis/micros/nanos by default, or a strptime pattern containing `%`); without
    them each format uses its own time field, and when the value is missing or does not
    parse, the time the line was read is used. `timezone` applies to times written
    without an offset (Spring Boot 2's default layout, for one).
    """

    # The field holding the event time (default: the format's own time field).
    time_key: str | None = None
    # `auto` (RFC 3339 and epoch s/ms/µs/ns), one of the named forms, or a strptime pattern.
    time_format: str = "auto"
    # Keep the time field in the record after taking the event time from it.
    keep_time_key: bool = True
    # The zone of times written without an offset.
    timezone: str = "UTC"
    # For `format: regex`: a regex with named groups, one field per group.
    regex: str | None = None
    # Field -> type, converted after parsing (a `regex` group or a logfmt value is text).
    types: dict[str, Literal["int", "float", "bool", "str"]] = {}
    # Where text goes: a `text` line, a line that does not parse, a non-object JSON value.
    message_key: str = "message"

    def __post_init__(self) -> None:
        if self.time_format not in TIME_FORMATS and "%" not in self.time_format:
            raise ValueError(
                f"time_format: expected one of {', '.join(TIME_FORMATS)} "
                f"or a strptime pattern such as %d/%b/%Y:%H:%M:%S %z, got {self.time_format!r}"
            )
        if not self.message_key:
            raise ValueError("message_key: must not be empty")
        if self.regex is not None:
            try:
                compiled = re.compile(self.regex)
            except re.error as e:
                raise ValueError(f"regex: does not compile: {e}") from None
            if not compiled.groupindex:
                raise ValueError("regex: needs at least one named group, such as (?P<level>\\w+)")
        if self.timezone != "UTC" and not _OFFSET.match(self.timezone):
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"timezone: expected UTC, an offset such as +02:00, or an IANA name "
                    f"such as Europe/Berlin, got {self.timezone!r}"
                ) from None
