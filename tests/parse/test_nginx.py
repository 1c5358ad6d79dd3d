"""nginx samples written from the `combined` log_format in nginx's docs."""

from __future__ import annotations

from collector.parse import PARSE_ERROR_KEY
from tests.parse.helpers import ns, parse

COMBINED = (
    b'203.0.113.7 - alice [26/Nov/2026:12:13:44 +0100] "POST /checkout/pay?step=3 HTTP/2.0" '
    b'302 154 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"'
)


def test_combined_line() -> None:
    result = parse("nginx", [COMBINED])
    assert result.records == [
        {
            "remote_addr": "203.0.113.7",
            "remote_user": "alice",
            "time_local": "26/Nov/2026:12:13:44 +0100",
            "request_method": "POST",
            "request_uri": "/checkout/pay?step=3",
            "server_protocol": "HTTP/2.0",
            "status": 302,
            "body_bytes_sent": 154,
            "http_referer": "https://shop.example.com/cart",
            "http_user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        }
    ]
    assert result.times == [ns("2026-11-26T11:13:44Z")]


def test_dashes_probes_and_the_main_format() -> None:
    lines = [
        b'10.0.0.1 - - [26/Nov/2026:11:13:44 +0000] "GET / HTTP/1.1" 200 0 "-" "-"',
        b'10.0.0.1 - - [26/Nov/2026:11:13:44 +0000] "\\x16\\x03\\x01\\x02" 400 157 "-" "-"',
        b'10.0.0.1 - - [26/Nov/2026:11:13:44 +0000] "GET /h HTTP/1.1" 200 5 "-" "kube-probe/1.30" '
        b'"198.51.100.9, 10.0.0.1"',
    ]
    ok, probe, main = parse("nginx", lines).records
    assert ok["remote_user"] is None and ok["http_referer"] is None
    assert ok["http_user_agent"] is None
    assert probe["request"] == "\\x16\\x03\\x01\\x02" and "request_method" not in probe
    assert probe["status"] == 400
    assert main["http_x_forwarded_for"] == "198.51.100.9, 10.0.0.1"


def test_malformed_nginx_lines() -> None:
    lines = [b"nginx: [emerg] bind() failed", b'1.2.3.4 - - [x] "GET', b"\xc3\x28"]
    result = parse("nginx", lines)
    assert [r[PARSE_ERROR_KEY] for r in result.records] == ["no_match"] * 3
    assert result.errors == {"no_match": 3}
