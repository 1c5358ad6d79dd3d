"""`format: envoy` — Envoy's default access log line, Istio's text and JSON access logs.

Envoy's default format:

    [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
    %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
    %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
    "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"

Istio's default (`accessLogEncoding: TEXT`) adds `%RESPONSE_CODE_DETAILS%
%CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%"` after the flags and
`%UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%` at the end. Both parse
to the field names Istio's JSON encoding uses, so a dashboard works on either; a JSON line
(`accessLogEncoding: JSON`) is decoded as is, with the same numeric fields made numbers.
Envoy writes `-` for an unset value: it becomes null, as in Istio's JSON.
"""

from __future__ import annotations

import re
from typing import Any

from collector.parse.config import ParserOptions
from collector.parse.eventtime import EventTimes
from collector.parse.fields import apply_types, int_or_none, none_if_dash
from collector.parse.jsonlines import decode_one
from collector.parse.result import ParseResult, text_of, unparsed

ACCESS_LINE = re.compile(
    r"\[(?P<start_time>[^\]]*)\] "
    r'"(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]*)" '
    r"(?P<response_code>\d+|-) (?P<response_flags>\S+)"
    r"(?: (?P<response_code_details>\S+) (?P<connection_termination_details>\S+) "
    r'"(?P<upstream_transport_failure_reason>[^"]*)")?'
    r" (?P<bytes_received>\d+|-) (?P<bytes_sent>\d+|-) (?P<duration>\d+|-)"
    r" (?P<upstream_service_time>\S+)"
    r' "(?P<x_forwarded_for>[^"]*)" "(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)"'
    r' "(?P<authority>[^"]*)" "(?P<upstream_host>[^"]*)"'
    r"(?: (?P<upstream_cluster>\S+) (?P<upstream_local_address>\S+)"
    r" (?P<downstream_local_address>\S+) (?P<downstream_remote_address>\S+)"
    r" (?P<requested_server_name>\S+) (?P<route_name>\S+))?"
)
NUMERIC_FIELDS = (
    "response_code",
    "bytes_received",
    "bytes_sent",
    "duration",
    "upstream_service_time",
)
_NUMERIC = frozenset(NUMERIC_FIELDS)
_ISTIO_MIDDLE = (
    "response_code_details",
    "connection_termination_details",
    "upstream_transport_failure_reason",
)
_ISTIO_TAIL = (
    "upstream_cluster",
    "upstream_local_address",
    "downstream_local_address",
    "downstream_remote_address",
    "requested_server_name",
    "route_name",
)


def _from_text(m: re.Match[str]) -> dict[str, Any]:
    groups = m.groupdict()
    record: dict[str, Any] = {}
    for name, value in groups.items():
        if value is None and (name in _ISTIO_MIDDLE or name in _ISTIO_TAIL):
            continue  # Envoy's shorter default format: the field is not there at all
        record[name] = int_or_none(value) if name in _NUMERIC else none_if_dash(value)
    return record


def _numbers(record: dict[str, Any]) -> dict[str, Any]:
    for name in NUMERIC_FIELDS:
        value = record.get(name)
        if type(value) is str:
            record[name] = int_or_none(value)
    return record


class EnvoyParser:
    def __init__(self, options: ParserOptions) -> None:
        self._message_key = options.message_key
        self._types = options.types
        self._times = EventTimes(("start_time",), options)

    def parse(self, lines: list[bytes]) -> ParseResult:
        errors: dict[str, int] = {}
        key = self._message_key
        records: list[dict[str, Any]] = []
        append = records.append
        match = ACCESS_LINE.match
        for line in lines:
            if line[:1] == b"{":
                append(_numbers(decode_one(line, key, errors)))
                continue
            text = text_of(line)
            m = match(text)
            append(unparsed(text, "no_match", key, errors) if m is None else _from_text(m))
        if self._types:
            apply_types(records, self._types)
        return ParseResult(records, self._times.of(records), errors)
