"""Helpers for the Forward client tests: payment-like records, chunks, a running client."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import msgspec

from collector.flow import Chunk, Ticket
from collector.forward.client import ForwardClient
from collector.forward.config import ForwardConfig
from collector.forward.encoder import encode_entries
from collector.metrics.internal import FORWARD, REGISTRY
from tools.receiver import FluentReceiver

BASE_NS = 1_764_150_000_123_456_789  # nanoseconds that an integer time would lose


def payment_record(chunk: int, seq: int) -> dict[str, Any]:
    return {
        "ts": "2026-11-26T09:40:00.123456Z",
        "level": "INFO",
        "logger": "com.example.payments.AuthorizationService",
        "msg": "authorization approved",
        "chunk": chunk,
        "seq": seq,
        "amount": {"value": 1299 + seq, "currency": "EUR"},
        "merchant": "ACME Ünïcødé GmbH",
        "card": "************1111",
        "ok": True,
        "fee": 0.35,
        "trace": None,
    }


def make_chunk(index: int, size: int = 20, tag: str = "app.payments") -> Chunk:
    """Chunk number `index` with `size` records; each record's time is unique."""
    records = [payment_record(index, i) for i in range(size)]
    times = [BASE_NS + index * 1000 + i for i in range(size)]
    entries = encode_entries(records, times, BASE_NS)
    ticket = Ticket(file_key=f"f{index}", seq=index, end_offset=index, nbytes=1, read_time_ns=1)
    return Chunk(tag=tag, entries=entries, count=size, tickets=[ticket])


def forward_config(ports: Iterable[int], **overrides: Any) -> ForwardConfig:
    """Timeouts short enough for tests; `servers` may be overridden with dicts."""
    raw: dict[str, Any] = {
        "servers": [{"host": "127.0.0.1", "port": p} for p in ports],
        "connect_timeout": 2.0,
        "ack_timeout": 2.0,
        "retry_initial": 0.05,
        "retry_max": 0.3,
        "max_chunks_in_flight": 4,
        "heartbeat_interval": 1.0,
    }
    raw.update(overrides)
    return msgspec.convert(raw, ForwardConfig, dec_hook=_dec_hook)


def _dec_hook(type_: type, value: Any) -> Any:
    from collector.units import dec_hook

    return dec_hook(type_, value)


class Running:
    """A ForwardClient running in a task, with what it acked, in order."""

    def __init__(self, cfg: ForwardConfig) -> None:
        self.acked: list[Chunk] = []
        self.dropped: list[Chunk] = []
        self.client = ForwardClient(cfg, self.acked.append, self.dropped.append, counters=FORWARD)
        self.task: asyncio.Task[None] | None = None

    def acked_indexes(self) -> list[int]:
        return [c.tickets[0].seq for c in self.acked]

    async def send_all(self, chunks: Iterable[Chunk]) -> None:
        for chunk in chunks:
            await self.client.send(chunk)


@contextlib.asynccontextmanager
async def running(cfg: ForwardConfig) -> AsyncIterator[Running]:
    r = Running(cfg)
    r.task = asyncio.create_task(r.client.run())
    try:
        yield r
    finally:
        r.client.close()
        await asyncio.wait_for(r.task, 10)


async def wait_entries(receiver: FluentReceiver, count: int, timeout: float = 20.0) -> list[Any]:
    return await asyncio.to_thread(receiver.wait_for, count, timeout)


def record_counts(entries: Iterable[dict[str, Any]]) -> collections.Counter[tuple[int, int]]:
    return collections.Counter((e["record"]["chunk"], e["record"]["seq"]) for e in entries)


def expected_keys(chunks: int, size: int) -> set[tuple[int, int]]:
    return {(c, s) for c in range(chunks) for s in range(size)}


def missing_chunks(counts: collections.Counter[tuple[int, int]], chunks: int, size: int) -> str:
    """Which chunks lost records, for an assertion message."""
    lost = sorted({c for c, _ in expected_keys(chunks, size) - set(counts)})
    return f"records missing from chunks {lost}"


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
