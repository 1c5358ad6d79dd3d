"""A payment service's logs, for the demo, the tests and the benchmarks.

Writes JSON lines like a Spring Boot payment API behind a mesh would: payment events
(authorised, captured, refunded, declined) with latency and trace ids, HTTP access lines,
application lines; about 1 % carry a test PAN in free text the way buggy code leaks it,
0.5 % a card object with a CVV, 0.5 % a Java stack trace. Every line has a `seq` so a test
can check each arrived exactly once. The PANs are public test card numbers.

    python -m tools.simulator --out /var/log/payment/app.log --rate 200
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson

# Public test card numbers (Luhn-valid, brand prefixes): what card data leaking into logs
# looks like, without being anyone's card.
TEST_PANS = (
    "4111111111111111",  # Visa
    "4012888888881881",  # Visa
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # Amex
    "6011111111111117",  # Discover
    "3530111333300000",  # JCB
    "36227206271667",  # Diners
)

EVENTS = (
    ("payment.authorised", "authorised", 0.55),
    ("payment.captured", "captured", 0.2),
    ("payment.refunded", "refunded", 0.05),
    ("payment.declined", "declined", 0.2),
)
METHODS = ("card", "card", "card", "apple_pay", "google_pay", "sepa_debit")
DECLINE_REASONS = ("insufficient_funds", "do_not_honor", "expired_card", "suspected_fraud")
CURRENCIES = ("EUR", "USD", "GBP")
PATHS = ("/v1/payments", "/v1/payments/{id}/capture", "/v1/refunds", "/v1/payments/{id}")
LOGGERS = (
    "com.acme.pay.AuthorisationService",
    "com.acme.pay.CaptureService",
    "com.acme.pay.gateway.AcquirerClient",
)
STACK = (
    "java.net.SocketTimeoutException: Read timed out\n"
    "\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)\n"
    "\tat com.acme.pay.gateway.AcquirerClient.authorise(AcquirerClient.java:142)\n"
    "\tat com.acme.pay.AuthorisationService.authorise(AuthorisationService.java:77)\n"
    "Caused by: java.io.IOException: connection reset\n"
    "\t... 12 more"
)


class PaymentLogs:
    """Deterministic generator of payment-service log records (dicts) and lines (bytes)."""

    def __init__(self, seed: int = 1, start_seq: int = 0) -> None:
        self.rng = random.Random(seed)
        self.seq = start_seq

    def record(self) -> dict[str, object]:
        rng = self.rng
        self.seq += 1
        now = datetime.now(UTC)
        base: dict[str, object] = {
            "ts": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "level": "INFO",
            "seq": self.seq,
            "trace_id": f"{rng.getrandbits(128):032x}",
            "span_id": f"{rng.getrandbits(64):016x}",
        }
        roll = rng.random()
        if roll < 0.5:
            base.update(self._payment())
        elif roll < 0.8:
            base.update(self._access())
        else:
            base.update(self._app())
        extra = rng.random()
        if extra < 0.01:
            pan = rng.choice(TEST_PANS)
            base["message"] = f"acquirer request failed for card {pan} ref={rng.randint(1, 10**9)}"
            base["level"] = "WARN"
        elif extra < 0.015:
            base["card"] = {
                "number": rng.choice(TEST_PANS),
                "cvv": f"{rng.randint(0, 999):03d}",
                "expiry": f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}",
            }
        elif extra < 0.02:
            base["level"] = "ERROR"
            base["stack_trace"] = STACK
            base["message"] = "authorisation failed"
        return base

    def _payment(self) -> dict[str, object]:
        rng = self.rng
        event, status = rng.choices(
            [(e, s) for e, s, _ in EVENTS], weights=[w for _, _, w in EVENTS]
        )[0]
        payment: dict[str, object] = {
            "id": f"pay_{rng.getrandbits(48):012x}",
            "status": status,
            "method": rng.choice(METHODS),
            "amount": round(rng.uniform(1, 500), 2),
            "currency": rng.choice(CURRENCIES),
            "merchant_id": f"m_{rng.randint(1, 40):04d}",
        }
        if status == "declined":
            payment["decline_reason"] = rng.choice(DECLINE_REASONS)
        return {
            "logger": rng.choice(LOGGERS),
            "event": event,
            "message": f"payment {status}",
            "payment": payment,
            "latency_ms": round(rng.lognormvariate(4.0, 0.6), 1),
        }

    def _access(self) -> dict[str, object]:
        rng = self.rng
        status = rng.choices((200, 201, 400, 402, 404, 500, 503), (70, 10, 5, 5, 3, 4, 3))[0]
        return {
            "logger": "access",
            "event": "http.request",
            "message": "request completed",
            "http": {
                "method": rng.choice(("GET", "POST", "POST")),
                "path": rng.choice(PATHS).replace("{id}", f"pay_{rng.getrandbits(32):08x}"),
                "status": status,
                "duration_ms": round(rng.lognormvariate(3.5, 0.7), 1),
                "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
            },
        }

    def _app(self) -> dict[str, object]:
        rng = self.rng
        return {
            "logger": rng.choice(LOGGERS),
            "event": "app",
            "message": rng.choice(
                (
                    "refreshed acquirer routing table",
                    "idempotency key cache hit",
                    "settlement batch queued",
                    "fraud score computed",
                )
            ),
            "thread": f"http-nio-8080-exec-{rng.randint(1, 200)}",
        }

    def line(self) -> bytes:
        return orjson.dumps(self.record()) + b"\n"

    def lines(self, count: int) -> Iterator[bytes]:
        for _ in range(count):
            yield self.line()


def write_file(path: str, count: int, seed: int = 1) -> int:
    """Write `count` lines as fast as possible; returns bytes written."""
    gen = PaymentLogs(seed)
    size = 0
    with open(path, "ab") as f:
        for _ in range(count // 1000):
            block = b"".join(gen.lines(1000))
            f.write(block)
            size += len(block)
        rest = b"".join(gen.lines(count % 1000))
        f.write(rest)
        size += len(rest)
    return size


class RotatingWriter:
    """Appends lines to `path`, rotating by rename or copytruncate at `rotate_bytes`."""

    def __init__(self, path: str, rotate_bytes: int, mode: str = "rename", keep: int = 5) -> None:
        self.path = path
        self.rotate_bytes = rotate_bytes
        self.mode = mode
        self.keep = keep
        self.f = open(path, "ab")  # noqa: SIM115 - held open across writes, closed in close()
        self.size = self.f.tell()

    def write(self, block: bytes) -> None:
        self.f.write(block)
        self.f.flush()
        self.size += len(block)
        if self.rotate_bytes and self.size >= self.rotate_bytes:
            self.rotate()

    def rotate(self) -> None:
        for i in range(self.keep - 1, 0, -1):
            older = f"{self.path}.{i}"
            if os.path.exists(older):
                os.replace(older, f"{self.path}.{i + 1}")
        if self.mode == "copytruncate":
            shutil.copyfile(self.path, f"{self.path}.1")
            self.f.truncate(0)
            self.f.seek(0)
        else:
            self.f.close()
            os.replace(self.path, f"{self.path}.1")
            self.f = open(self.path, "ab")  # noqa: SIM115
        self.size = 0

    def close(self) -> None:
        self.f.close()


def run(args: argparse.Namespace) -> int:
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    gen = PaymentLogs(args.seed, args.start_seq)
    writer = RotatingWriter(args.out, args.rotate_bytes, args.rotate_mode, args.keep)
    written = 0
    tick = 0.05
    started = time.monotonic()
    try:
        while args.count == 0 or written < args.count:
            if args.duration and time.monotonic() - started >= args.duration:
                break
            todo = 1000 if args.rate == 0 else max(1, int(args.rate * tick))
            if args.count:
                todo = min(todo, args.count - written)
            writer.write(b"".join(gen.lines(todo)))
            written += todo
            if args.rate:
                target = started + written / args.rate
                delay = target - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
    except KeyboardInterrupt:
        pass
    finally:
        writer.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tools.simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, help="log file to append to")
    p.add_argument("--rate", type=float, default=100.0, help="lines per second; 0 = flat out")
    p.add_argument("--count", type=int, default=0, help="lines to write; 0 = until stopped")
    p.add_argument("--duration", type=float, default=0.0, help="seconds; 0 = no limit")
    p.add_argument("--rotate-bytes", type=int, default=0, help="rotate at this size; 0 = never")
    p.add_argument("--rotate-mode", choices=("rename", "copytruncate"), default="rename")
    p.add_argument("--keep", type=int, default=5, help="rotated files kept")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start-seq", type=int, default=0, help="first seq is this + 1")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
