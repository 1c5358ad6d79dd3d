"""Parser micro benchmarks: one realistic batch of 1,000 lines per format.

Run: `.venv/bin/python -m pytest benches/test_bench_parse.py --benchmark-only`
Per-line cost = the reported time / 1,000. Figures are recorded in docs/parsers.md.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest

from collector.parse import ParseResult, make_parser
from collector.parse.config import ParserOptions

BATCH = 1000


def _rng() -> random.Random:
    return random.Random(7)


def _iso(i: int, digits: int = 3) -> str:
    second = 44 + i // 400
    frac = str((i * 7919) % 10**digits).rjust(digits, "0")
    return f"2026-11-26T11:13:{second % 60:02d}.{frac}Z"


def json_lines() -> list[bytes]:
    """Payment-service JSON lines of about 314 bytes: events, access lines, app lines."""
    rng = _rng()
    lines = []
    for i in range(BATCH):
        kind = i % 3
        base = {"time": _iso(i), "level": "INFO", "service": "payments-api"}
        if kind == 0:
            base |= {
                "logger": "c.e.payments.PaymentService",
                "message": "payment authorized",
                "trace_id": f"{rng.getrandbits(128):032x}",
                "payment": {
                    "id": f"pay_{rng.getrandbits(64):016x}",
                    "amount": rng.randint(100, 99999),
                    "currency": "EUR",
                    "merchant": f"m_{rng.randint(1000, 9999)}",
                    "status": "authorized",
                },
            }
        elif kind == 1:
            base |= {
                "logger": "access",
                "message": "request completed",
                "http": {
                    "method": "POST",
                    "path": f"/v1/payments/{rng.getrandbits(32):08x}/capture",
                    "status": 200,
                    "duration_ms": round(rng.random() * 80, 3),
                    "user_agent": "okhttp/4.12.0",
                },
                "request_id": f"{rng.getrandbits(64):016x}",
            }
        else:
            base |= {
                "logger": "c.e.payments.ledger.LedgerClient",
                "thread": "http-nio-8080-exec-7",
                "message": f"ledger entry posted for batch {rng.randint(1, 10**6)} in 12ms",
                "span_id": f"{rng.getrandbits(64):016x}",
                "attempt": 1,
            }
        lines.append(json.dumps(base, separators=(",", ":")).encode())
    return lines


SPRING_HEADER = (
    "2026-11-26T11:13:44.{ms:03d}Z  {level} 4242 --- [payments] [nio-8080-exec-{t}] "
    "c.e.payments.PaymentController          : {message}"
)
TRACE = (
    "\njava.lang.IllegalStateException: ledger unavailable"
    "\n\tat com.example.payments.LedgerClient.post(LedgerClient.java:88)"
    "\n\tat com.example.payments.PaymentService.capture(PaymentService.java:142)"
    "\nCaused by: java.net.ConnectException: Connection refused"
    "\n\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)"
    "\n\t... 42 common frames omitted"
)


def spring_lines() -> list[bytes]:
    lines = []
    for i in range(BATCH):
        level = "ERROR" if i % 50 == 0 else " INFO"
        text = SPRING_HEADER.format(
            ms=i % 1000, level=level, t=i % 10, message=f"captured payment pay_{i:08x} in 14 ms"
        )
        if i % 50 == 0:
            text += TRACE
        lines.append(text.encode())
    return lines


def envoy_lines() -> list[bytes]:
    lines = []
    for i in range(BATCH):
        if i % 2:
            lines.append(
                (
                    f'[{_iso(i)}] "POST /v1/payments/{i:08x}/capture?merchant=m_1234 HTTP/1.1" '
                    f'200 - via_upstream - "-" 512 231 {i % 90} {i % 80} "-" "okhttp/4.12.0" '
                    f'"a1b2c3d4-{i:04x}-4f00-9abc-0123456789ab" "payments.svc:8080" '
                    f'"10.44.1.27:8080" outbound|8080||payments.default.svc.cluster.local '
                    f"10.44.1.23:37652 10.0.45.184:8080 10.44.1.23:46520 - default"
                ).encode()
            )
        else:
            lines.append(
                json.dumps(
                    {
                        "start_time": _iso(i),
                        "method": "GET",
                        "path": f"/v1/payments/{i}",
                        "protocol": "HTTP/1.1",
                        "response_code": 200,
                        "response_flags": "-",
                        "bytes_received": 0,
                        "bytes_sent": 812,
                        "duration": 12,
                        "upstream_service_time": "11",
                        "x_forwarded_for": None,
                        "user_agent": "okhttp/4.12.0",
                        "request_id": f"{i:08x}-77aa",
                        "authority": "payments.svc:8080",
                        "upstream_host": "10.44.1.27:8080",
                    },
                    separators=(",", ":"),
                ).encode()
            )
    return lines


def nginx_lines() -> list[bytes]:
    return [
        (
            f"10.1.{i % 250}.7 - - [26/Nov/2026:11:13:{i % 60:02d} +0000] "
            f'"GET /checkout/{i:06d}?step=pay HTTP/1.1" 200 {1000 + i} '
            f'"https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"'
        ).encode()
        for i in range(BATCH)
    ]


def logfmt_lines() -> list[bytes]:
    return [
        (
            f'time={_iso(i)} level=info msg="payment captured" payment_id=pay_{i:08x} '
            f'amount={100 + i} currency=EUR merchant="Coffee & Co" duration=12ms'
        ).encode()
        for i in range(BATCH)
    ]


REGEX = r"(?P<time>\S+) (?P<level>[A-Z]+) \[(?P<component>[^\]]+)\] (?P<message>.*)"


def regex_lines() -> list[bytes]:
    return [
        f"{_iso(i)} INFO [settlement-{i % 4}] settled batch {i} with {i % 97} items".encode()
        for i in range(BATCH)
    ]


CASES: dict[str, tuple[Callable[[], list[bytes]], ParserOptions]] = {
    "json": (json_lines, ParserOptions()),
    "spring": (spring_lines, ParserOptions()),
    "envoy": (envoy_lines, ParserOptions()),
    "nginx": (nginx_lines, ParserOptions()),
    "logfmt": (logfmt_lines, ParserOptions()),
    "regex": (regex_lines, ParserOptions(regex=REGEX)),
    "text": (json_lines, ParserOptions()),
}


@pytest.mark.parametrize("fmt", list(CASES))
def test_parse(benchmark, fmt: str) -> None:  # type: ignore[no-untyped-def]
    make_lines, options = CASES[fmt]
    lines = make_lines()
    parser = make_parser(fmt, options)
    result: ParseResult = benchmark(parser.parse, lines)
    assert len(result.records) == len(lines)
    assert not result.errors
    if fmt != "text":
        assert result.times is not None and all(result.times)


def test_json_decode_only(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The floor under `json`: msgspec decoding alone, no time extraction."""
    import msgspec

    lines = json_lines()
    decoder = msgspec.json.Decoder()
    benchmark(lambda: list(map(decoder.decode, lines)))


@pytest.mark.parametrize(
    "layout",
    [
        "2026-11-26T11:13:44.{f:03d}Z",
        "2026-11-26T11:13:44.{f:06d}+00:00",
        "2026-11-26T11:13:44.{f:09d}Z",
        "2026-11-26 11:13:44,{f:03d}",
    ],
)
def test_event_time(benchmark, layout: str) -> None:  # type: ignore[no-untyped-def]
    """Time extraction alone, per RFC 3339 layout (the fast path's cut positions)."""
    from collector.parse.eventtime import TimeConverter

    values = [layout.format(f=(i * 7919) % 1000) for i in range(BATCH)]
    converter = TimeConverter()
    times = benchmark(converter.many, values)
    assert all(times)
