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
from collector.parse.fields import apply_types, int_or_none
from collector.parse.jsonlines import decode_one
from collector.parse.result import ParseResult, text_of, unparsed


def _quoted(name: str) -> str:
    return f'"(?:-|(?P<{name}>[^"]*))"'


def _token(name: str) -> str:
    return rf"(?:-|(?P<{name}>\S+))"


def _number(name: str) -> str:
    return rf"(?:-|(?P<{name}>\d+))"


# A `-` matches outside the named group, so "no value" comes out as None directly.
_HEAD = (
    r"\[(?P<start_time>[^\]]*)\] "
    rf'"{_token("method")} {_token("path")} (?:-|(?P<protocol>[^"]*))" '
    rf"{_number('response_code')} {_token('response_flags')}"
)
_ISTIO_MIDDLE = (
    f" {_token('response_code_details')} {_token('connection_termination_details')}"
    f" {_quoted('upstream_transport_failure_reason')}"
)
_BODY = (
    f" {_number('bytes_received')} {_number('bytes_sent')} {_number('duration')}"
    f" {_token('upstream_service_time')} {_quoted('x_forwarded_for')} {_quoted('user_agent')}"
    f" {_quoted('request_id')} {_quoted('authority')} {_quoted('upstream_host')}"
)
_ISTIO_TAIL = (
    f" {_token('upstream_cluster')} {_token('upstream_local_address')}"
    f" {_token('downstream_local_address')} {_token('downstream_remote_address')}"
    f" {_token('requested_server_name')} {_token('route_name')}" + r"(?=\s|$)"
)
ISTIO_LINE = re.compile(_HEAD + _ISTIO_MIDDLE + _BODY + _ISTIO_TAIL)
ENVOY_LINE = re.compile(_HEAD + _BODY + r"(?=\s|$)")
NUMERIC_FIELDS = (
    "response_code",
    "bytes_received",
    "bytes_sent",
    "duration",
    "upstream_service_time",
)


def _names(pattern: re.Pattern[str]) -> tuple[str, ...]:
    return tuple(sorted(pattern.groupindex, key=pattern.groupindex.__getitem__))


_ISTIO_NAMES = _names(ISTIO_LINE)
_ENVOY_NAMES = _names(ENVOY_LINE)


def _from_text(m: re.Match[str], names: tuple[str, ...]) -> dict[str, Any]:
    record: dict[str, Any] = dict(zip(names, m.groups(), strict=True))
    for name in NUMERIC_FIELDS:
        value = record[name]
        if value is not None and value.isdigit():
            record[name] = int(value)
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
        istio, envoy = ISTIO_LINE.match, ENVOY_LINE.match
        for line in lines:
            if line[:1] == b"{":
                append(_numbers(decode_one(line, key, errors)))
                continue
            text = text_of(line)
            m = istio(text)
            if m is not None:
                append(_from_text(m, _ISTIO_NAMES))
                continue
            m = envoy(text)
            if m is not None:
                append(_from_text(m, _ENVOY_NAMES))
                continue
            append(unparsed(text, "no_match", key, errors))
        if self._types:
            apply_types(records, self._types)
        return ParseResult(records, self._times.of(records), errors)
