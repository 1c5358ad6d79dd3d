"""Realistic payment-service JSON lines for the redaction tests and benchmark.

About 314 bytes each, like the simulator's flood: 1 % carry a PAN in the message text,
0.5 % a card object with number, cvv and expiry; the rest carry timestamps, trace ids,
order ids and amounts that must pass the pre-scan without being flagged.
"""

from __future__ import annotations

import random

import msgspec

from collector.redact.cards import luhn_complete

# (brand prefix, length) pairs the generator draws PANs from.
PAN_SHAPES: tuple[tuple[str, int], ...] = (
    ("4", 16),
    ("51", 16),
    ("2221", 16),
    ("34", 15),
    ("6011", 16),
    ("3530", 16),
    ("36", 14),
    ("62", 19),
)

_MESSAGES = (
    "authorization approved",
    "capture settled with acquirer",
    "refund queued for settlement batch",
    "3ds challenge completed",
    "risk score below threshold",
)


def make_pan(rng: random.Random, prefix: str = "4", length: int = 16) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return luhn_complete(body)


def grouped(pan: str) -> str:
    return " ".join(pan[i : i + 4] for i in range(0, len(pan), 4))


def payment_line(rng: random.Random, kind: str = "plain") -> bytes:
    """One JSON line; kind is plain, pan_text (PAN in msg) or card_object."""
    epoch_ms = 1764156824000 + rng.randrange(10**6)
    minute, second, milli = rng.randrange(60), rng.randrange(60), rng.randrange(1000)
    record: dict[str, object] = {
        "ts": f"2026-11-26T11:{minute:02d}:{second:02d}.{milli:03d}Z",
        "level": "INFO",
        "logger": "com.acme.payments.AuthorizationService",
        "trace_id": f"{rng.getrandbits(128):032x}",
        "span_id": f"{rng.getrandbits(64):016x}",
        "order_id": f"ord_{rng.getrandbits(40):010x}",
        "merchant_id": f"m_{rng.randrange(10**5):05d}",
        "amount": rng.randrange(100, 100000),
        "currency": "EUR",
        "epoch_ms": epoch_ms,
        "latency_us": rng.randrange(100, 90000),
        "msg": rng.choice(_MESSAGES),
    }
    if kind == "pan_text":
        prefix, length = rng.choice(PAN_SHAPES)
        pan = make_pan(rng, prefix, length)
        record["level"] = "WARN"
        record["msg"] = f"charge declined for card {grouped(pan)}: insufficient funds"
    elif kind == "card_object":
        prefix, length = rng.choice(PAN_SHAPES)
        record["card"] = {
            "number": make_pan(rng, prefix, length),
            "cvv": f"{rng.randrange(1000):03d}",
            "exp": f"{rng.randrange(1, 13):02d}/{rng.randrange(26, 32)}",
        }
    return msgspec.json.encode(record)


def realistic_batch(n: int, seed: int = 1) -> list[bytes]:
    """n lines: 1 % with a PAN in the message, 0.5 % with a card object."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        kind = "pan_text" if i % 100 == 37 else "card_object" if i % 200 == 91 else "plain"
        lines.append(payment_line(rng, kind))
    return lines


def worst_case_batch(n: int, seed: int = 2) -> list[bytes]:
    """Every line holds several PANs (text, number, card object) and SAD."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        pans = [make_pan(rng, *rng.choice(PAN_SHAPES)) for _ in range(3)]
        record = {
            "ts": "2026-11-26T11:13:44.123Z",
            "msg": f"retry card {grouped(pans[0])} then {pans[1]} via /pay?pan={pans[2]}&cvv=123",
            "card": {"number": int(pans[1]), "cvv": "123", "exp": "12/27"},
            "track2": f";{pans[0]}=2512101000000000?",
        }
        lines.append(msgspec.json.encode(record))
    return lines
