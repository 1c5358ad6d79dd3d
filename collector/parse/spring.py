"""`format: spring` — Spring Boot's default console/file layout and its JSON encoders.

The text layout (logback and log4j2 alike, Boot 2.x to 3.x):

    2024-05-14 09:12:03.482  INFO 4242 --- [           main] c.e.pay.PaymentsApplication   : Started
    2024-05-14T09:12:03.482Z  INFO 4242 --- [payments] [           main] c.e.pay.Payments : Started
    ... --- [payments] [exec-1] [4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.X : m

becomes `time`, `level`, `pid`, `app` (Boot 3.2+ with spring.application.name), `thread`,
`trace_id`/`span_id` (Boot 3.2+ log correlation), `logger`, `message`. The tailer's `java`
multiline mode hands over an exception as ONE line with `\n` between its physical lines:
when what follows the first line holds stack frames (`\tat ...`), it goes to
`stack_trace` (with its `Caused by:` sections, as written); other continuation lines stay in
`message`.

logstash-logback-encoder JSON (`@timestamp`, `logger_name`, `thread_name`, `level`,
`message`, `stack_trace`) and Spring Boot 3.4's structured `ecs` / `logstash` formats are
mapped to the same names; any other field (MDC, `level_value`, custom) is kept as is.
"""

from __future__ import annotations

import re
from typing import Any

from collector.parse.config import ParserOptions
from collector.parse.eventtime import EventTimes
from collector.parse.fields import apply_types
from collector.parse.jsonlines import decode_one
from collector.parse.result import ParseResult, text_of, unparsed

HEADER = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)[ \t]+"
    r"(?P<level>[A-Z]{4,7})[ \t]+(?:(?P<pid>\d+)[ \t]+)?---[ \t]+"
    r"\[(?P<b1>[^\]\n]*)\][ \t]+(?:\[(?P<b2>[^\]\n]*)\][ \t]+)?(?:\[(?P<b3>[^\]\n]*)\][ \t]+)?"
    r"(?P<logger>[^\s\[][^\s]*?)[ \t]*: ?(?P<message>.*)"
)
# Boot 3.2's CorrelationIdFormatter: "[traceId-spanId]", or blanks when there is no trace.
_CORRELATION = re.compile(r"\s*|(?P<trace>[0-9a-fA-F]{16,32})-(?P<span>[0-9a-fA-F]{8,16})")
_FRAME = re.compile(r"^\s+at |^\s*Caused by: ", re.MULTILINE)

# JSON encoders' names -> ours (logstash-logback-encoder, Boot 3.4 structured ecs)
JSON_NAMES = {
    "@timestamp": "time",
    "timestamp": "time",
    "logger_name": "logger",
    "thread_name": "thread",
    "log.level": "level",
    "log.logger": "logger",
    "process.pid": "pid",
    "process.thread.name": "thread",
    "service.name": "app",
    "error.stack_trace": "stack_trace",
}


def _brackets(record: dict[str, Any], b1: str, b2: str | None, b3: str | None) -> None:
    """Tell `[app] [thread] [correlation]` apart when some of them are absent."""
    correlation = None
    if b3 is not None:
        record["app"] = b1.strip()
        thread = b2 or ""
        correlation = _CORRELATION.fullmatch(b3)
    elif b2 is not None:
        correlation = _CORRELATION.fullmatch(b2)
        if correlation is None:
            record["app"] = b1.strip()
            thread = b2
        else:
            thread = b1
    else:
        thread = b1
    record["thread"] = thread.strip()
    if correlation is not None and correlation.group("trace"):
        record["trace_id"] = correlation.group("trace")
        record["span_id"] = correlation.group("span")


def from_text(m: re.Match[str], text: str) -> dict[str, Any]:
    time, level, pid, b1, b2, b3, logger, message = m.groups()
    record: dict[str, Any] = {"time": time, "level": level}
    if pid is not None:
        record["pid"] = int(pid)
    _brackets(record, b1, b2, b3)
    record["logger"] = logger
    end = m.end()
    if end == len(text):
        record["message"] = message
        return record
    rest = text[end + 1 :]
    if _FRAME.search(rest):
        record["message"] = message
        record["stack_trace"] = rest
    else:
        record["message"] = text[m.start("message") :]
    return record


def from_json(record: dict[str, Any]) -> dict[str, Any]:
    for theirs, ours in JSON_NAMES.items():
        if theirs in record and ours not in record:
            record[ours] = record.pop(theirs)
    return record


class SpringParser:
    def __init__(self, options: ParserOptions) -> None:
        self._message_key = options.message_key
        self._types = options.types
        self._times = EventTimes(("time",), options)

    def parse(self, lines: list[bytes]) -> ParseResult:
        errors: dict[str, int] = {}
        key = self._message_key
        records: list[dict[str, Any]] = []
        append = records.append
        match = HEADER.match
        for line in lines:
            if line[:1] == b"{":
                append(from_json(decode_one(line, key, errors)))
                continue
            text = text_of(line)
            m = match(text)
            append(unparsed(text, "no_match", key, errors) if m is None else from_text(m, text))
        if self._types:
            apply_types(records, self._types)
        return ParseResult(records, self._times.of(records), errors)
