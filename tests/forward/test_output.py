"""The Forward output: a tag's records become entries in that tag's chunk; the flusher
sends a chunk flush_interval after it was opened (backdated by `opened`); drain sends what
is still open. The client is a recording stand-in here (delivery is test_client_*)."""

from __future__ import annotations

import asyncio
import time

import msgpack

from collector.flow import Chunk, Ticket
from collector.forward.output import ForwardOutput
from collector.metrics.internal import FORWARD
from tests.forward.helpers import forward_config


class RecordingClient:
    def __init__(self) -> None:
        self.sent: list[Chunk] = []
        self.arrived = asyncio.Event()
        self._closed = asyncio.Event()

    @property
    def pending(self) -> int:
        return len(self.sent)

    async def send(self, chunk: Chunk) -> None:
        self.sent.append(chunk)
        self.arrived.set()

    async def drain(self, timeout: float) -> bool:
        return True

    async def run(self) -> None:
        await self._closed.wait()

    def close(self) -> None:
        self._closed.set()


def output(**overrides: object) -> tuple[ForwardOutput, RecordingClient]:
    out = ForwardOutput(forward_config([9], **overrides), print, print, counters=FORWARD)
    client = RecordingClient()
    out.client = client  # type: ignore[assignment]
    return out, client


def ticket(seq: int = 0) -> Ticket:
    return Ticket(file_key="f", seq=seq, end_offset=10, nbytes=10, read_time_ns=5_000_000_000)


def entries(chunk: Chunk) -> list[list[object]]:
    unpacker = msgpack.Unpacker(ext_hook=lambda code, data: data, raw=False)
    unpacker.feed(chunk.entries)
    return list(unpacker)


async def test_records_of_a_tag_share_a_chunk_and_the_ticket_rides_with_it() -> None:
    out, client = output(chunk_max_records=3)
    await out.send("a", [{"n": 1}, {"n": 2}], None, ticket(1))
    await out.send("b", [{"n": 3}], None, ticket(2))
    assert client.sent == []
    await out.send("a", [{"n": 4}], None, ticket(3))  # reaches chunk_max_records
    [full] = client.sent
    assert (full.tag, full.count, [t.seq for t in full.tickets]) == ("a", 3, [1, 3])
    assert [e[1] for e in entries(full)] == [{"n": 1}, {"n": 2}, {"n": 4}]
    assert await out.drain(time.monotonic() + 5)
    assert [(c.tag, c.count) for c in client.sent] == [("a", 3), ("b", 1)]


async def test_the_flusher_counts_flush_interval_from_opened() -> None:
    out, client = output(flush_interval=30.0)
    task = asyncio.create_task(out.run())
    try:
        await out.send("a", [{"n": 1}], None, ticket(), opened=time.monotonic() - 30.0)
        await asyncio.wait_for(client.arrived.wait(), 10)  # not 30 s: it was due already
        assert [c.count for c in client.sent] == [1]
        client.arrived.clear()
        await out.send("a", [{"n": 2}], None, ticket())  # opened now: due in 30 s
        await asyncio.sleep(0.2)
        assert len(client.sent) == 1
        assert out.builder.next_deadline() is not None
    finally:
        out.close()
        await asyncio.wait_for(task, 5)
