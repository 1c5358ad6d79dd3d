"""Envoy/Istio samples written from Envoy's default format and Istio's access log docs."""

from __future__ import annotations

import json

from collector.parse import PARSE_ERROR_KEY
from tests.parse.helpers import TEST_PAN, ns, parse

ENVOY_DEFAULT = (
    b'[2026-11-26T11:13:44.354Z] "GET /v1/payments/pay_123 HTTP/1.1" 200 - 0 812 12 11 '
    b'"10.0.0.1" "okhttp/4.12.0" "a1b2c3d4-7e1f-4f00-9abc-0123456789ab" '
    b'"payments.default.svc:8080" "10.44.1.27:8080"'
)
ISTIO_TEXT = (
    b'[2026-11-26T11:13:44.409Z] "POST /v1/payments/pay_123/capture HTTP/1.1" 503 UF,URX '
    b'upstream_reset_before_response_started{connection_failure} - "delayed connect error: 111" '
    b'0 91 3 - "-" "okhttp/4.12.0" "84961386-6d84-929d-98bd-c5aee93b5c88" "ledger:8000" '
    b'"10.44.1.27:80" outbound|8000||ledger.payments.svc.cluster.local - 10.0.45.184:8000 '
    b"10.44.1.23:46520 - default"
)
TCP_LINE = (
    b'[2026-11-26T11:13:44.000Z] "- - -" 0 - 1024 2048 5000 - "-" "-" "-" "-" "10.44.1.30:5432"'
)


def test_envoy_default_format() -> None:
    result = parse("envoy", [ENVOY_DEFAULT])
    assert result.records == [
        {
            "start_time": "2026-11-26T11:13:44.354Z",
            "method": "GET",
            "path": "/v1/payments/pay_123",
            "protocol": "HTTP/1.1",
            "response_code": 200,
            "response_flags": None,
            "bytes_received": 0,
            "bytes_sent": 812,
            "duration": 12,
            "upstream_service_time": 11,
            "x_forwarded_for": "10.0.0.1",
            "user_agent": "okhttp/4.12.0",
            "request_id": "a1b2c3d4-7e1f-4f00-9abc-0123456789ab",
            "authority": "payments.default.svc:8080",
            "upstream_host": "10.44.1.27:8080",
        }
    ]
    assert result.times == [ns("2026-11-26T11:13:44.354Z")]


def test_istio_default_text_format() -> None:
    (record,) = parse("envoy", [ISTIO_TEXT]).records
    assert record["response_code"] == 503
    assert record["response_flags"] == "UF,URX"
    assert (
        record["response_code_details"]
        == "upstream_reset_before_response_started{connection_failure}"
    )
    assert record["connection_termination_details"] is None
    assert record["upstream_transport_failure_reason"] == "delayed connect error: 111"
    assert record["upstream_service_time"] is None
    assert record["x_forwarded_for"] is None
    assert record["upstream_cluster"] == "outbound|8000||ledger.payments.svc.cluster.local"
    assert record["upstream_local_address"] is None
    assert record["downstream_remote_address"] == "10.44.1.23:46520"
    assert record["requested_server_name"] is None
    assert record["route_name"] == "default"


def test_tcp_line_with_dashes() -> None:
    (record,) = parse("envoy", [TCP_LINE]).records
    assert record["method"] is None and record["path"] is None and record["protocol"] is None
    assert record["response_code"] == 0
    assert record["duration"] == 5000
    assert record["upstream_host"] == "10.44.1.30:5432"


def test_istio_json_access_log() -> None:
    event = {
        "authority": "payments:8080",
        "bytes_received": 0,
        "bytes_sent": 812,
        "connection_termination_details": None,
        "downstream_local_address": "10.44.1.23:8080",
        "downstream_remote_address": "10.44.1.9:51234",
        "duration": 12,
        "method": "GET",
        "path": "/v1/payments/pay_123",
        "protocol": "HTTP/1.1",
        "request_id": "84961386-6d84-929d-98bd-c5aee93b5c88",
        "requested_server_name": None,
        "response_code": 200,
        "response_code_details": "via_upstream",
        "response_flags": "-",
        "route_name": "default",
        "start_time": "2026-11-26T11:13:44.409Z",
        "upstream_cluster": "inbound|8080||",
        "upstream_host": "10.44.1.23:8080",
        "upstream_local_address": "127.0.0.6:39521",
        "upstream_service_time": "11",
        "upstream_transport_failure_reason": None,
        "user_agent": "okhttp/4.12.0",
        "x_forwarded_for": None,
    }
    result = parse("envoy", [json.dumps(event).encode()])
    (record,) = result.records
    assert record["upstream_service_time"] == 11
    assert record["response_code"] == 200
    assert record["response_flags"] == "-"  # JSON is taken as written, except the numbers
    assert record.keys() == event.keys()
    assert result.times == [ns("2026-11-26T11:13:44.409Z")]


def test_text_and_json_lines_give_the_same_field_names() -> None:
    text, _ = parse(
        "envoy",
        [ISTIO_TEXT, json.dumps({"start_time": "x", "method": "GET"}).encode()],
    ).records
    assert {"start_time", "method"} <= text.keys()


def test_query_string_with_a_card_number_is_kept_whole_for_the_redactor() -> None:
    line = (
        b'[2026-11-26T11:13:44.354Z] "GET /v1/checkout?card='
        + TEST_PAN.encode()
        + b'&exp=12%2F29 HTTP/1.1" 200 - 0 812 12 11 "-" "curl/8.5.0" "r-1" "shop" "10.0.0.2:80"'
    )
    (record,) = parse("envoy", [line]).records
    path_whole = record["path"] == "/v1/checkout?card=" + TEST_PAN + "&exp=12%2F29"
    assert path_whole, "the path must carry the query string unchanged"


def test_malformed_envoy_lines() -> None:
    lines = [
        b"[2026-11-26T11:13:44.354Z] truncated",
        b'{"start_time": ',
        b"",
        b"\x00\x01\x02",
    ]
    result = parse("envoy", lines)
    assert [r[PARSE_ERROR_KEY] for r in result.records] == [
        "no_match",
        "invalid_json",
        "no_match",
        "no_match",
    ]
    assert result.times is None
