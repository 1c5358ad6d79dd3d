"""Forward encoder micro benchmarks on a realistic batch: 1,000 payment-service records
decoded from the simulator's ~360-byte JSON lines.

Run: `.venv/bin/python -m pytest benches/test_bench_encode.py --benchmark-only`
Per-record cost = the reported time / 1,000. Figures are recorded in docs/forward.md.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
import pytest

from collector.flow import Chunk
from collector.forward.encoder import encode_entries, encode_message, event_time
from tools.simulator import PaymentLogs

BATCH = 1000
NS = 1_764_150_000_000_000_000


def payment_lines() -> list[bytes]:
    """The simulator's payment-service lines, as the flood benchmark and the tests use."""
    return [line.rstrip(b"\n") for line in PaymentLogs(seed=7).lines(BATCH)]


LINES = payment_lines()
RECORDS: list[dict[str, Any]] = [orjson.loads(line) for line in LINES]
TIMES = [NS + i * 1_000_003 for i in range(BATCH)]


def test_lines_are_realistic() -> None:
    mean = sum(map(len, LINES)) / len(LINES)
    assert 300 <= mean <= 400, mean  # the simulator writes ~360-byte lines


def test_encode_entries_own_times(benchmark: Any) -> None:
    out = benchmark(encode_entries, RECORDS, TIMES, NS)
    assert out


def test_encode_entries_read_time(benchmark: Any) -> None:
    out = benchmark(encode_entries, RECORDS, None, NS)
    assert out


def test_per_record_baseline(benchmark: Any) -> None:
    """What encode_entries replaces: one encode call per record."""
    enc = msgspec.msgpack.Encoder()

    def per_record() -> bytes:
        return b"".join(enc.encode([event_time(t), r]) for t, r in zip(TIMES, RECORDS, strict=True))

    assert benchmark(per_record) == encode_entries(RECORDS, TIMES, NS)


MIB_CHUNK = Chunk(
    tag="app.payments",
    entries=encode_entries(RECORDS, TIMES, NS) * 4,  # ~1 MiB of entries, 4,000 records
    count=4 * BATCH,
    tickets=[],
    chunk_id=bytes(16),
)


@pytest.mark.parametrize(("compress", "level"), [("none", 6), ("gzip", 1), ("gzip", 6)])
def test_encode_message_1mib(benchmark: Any, compress: str, level: int) -> None:
    msg = benchmark(encode_message, MIB_CHUNK, compress, True, level)
    benchmark.extra_info["ratio"] = round(len(msg) / len(MIB_CHUNK.entries), 3)
