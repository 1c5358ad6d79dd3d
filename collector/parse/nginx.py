"""`format: nginx` — nginx's `combined` access log format (and `main`, its superset).

    log_format combined '$remote_addr - $remote_user [$time_local] '
                        '"$request" $status $body_bytes_sent '
                        '"$http_referer" "$http_user_agent"';

Fields are named after the nginx variables. `$request` is split into `request_method`,
`request_uri` and `server_protocol` (nginx's own names for its parts); when it does not
split into three (a TLS probe, an empty request), it is kept whole as `request`. nginx
writes `-` for an empty value: those become null. The optional trailing quoted field of the
stock `main` format is `http_x_forwarded_for`.
"""

from __future__ import annotations

import re
from typing import Any

from collector.parse.config import ParserOptions
from collector.parse.eventtime import EventTimes
from collector.parse.fields import apply_types
from collector.parse.regexp import match_lines
from collector.parse.result import ParseResult

COMBINED = re.compile(
    r"(?P<remote_addr>\S+) \S+ (?P<remote_user>\S+) \[(?P<time_local>[^\]]*)\] "
    r'"(?P<request>[^"]*)" (?P<status>\d{3}|-) (?P<body_bytes_sent>\d+|-) '
    r'"(?P<http_referer>[^"]*)" "(?P<http_user_agent>[^"]*)"'
    r'(?: "(?P<http_x_forwarded_for>[^"]*)")?'
)


def _record(m: re.Match[str]) -> dict[str, Any]:
    (addr, user, time_local, request, status, sent, referer, agent, forwarded) = m.groups()
    record: dict[str, Any] = {
        "remote_addr": addr,
        "remote_user": None if user == "-" else user,
        "time_local": time_local,
    }
    parts = request.split(" ")
    if len(parts) == 3:
        record["request_method"], record["request_uri"], record["server_protocol"] = parts
    else:
        record["request"] = request
    record["status"] = None if status == "-" else int(status)
    record["body_bytes_sent"] = None if sent == "-" else int(sent)
    record["http_referer"] = None if referer == "-" else referer
    record["http_user_agent"] = None if agent == "-" else agent
    if forwarded is not None:
        record["http_x_forwarded_for"] = None if forwarded == "-" else forwarded
    return record


class NginxParser:
    def __init__(self, options: ParserOptions) -> None:
        self._message_key = options.message_key
        self._types = options.types
        self._times = EventTimes(("time_local",), options)

    def parse(self, lines: list[bytes]) -> ParseResult:
        errors: dict[str, int] = {}
        records = match_lines(lines, COMBINED.match, _record, self._message_key, errors)
        if self._types:
            apply_types(records, self._types)
        return ParseResult(records, self._times.of(records), errors)
