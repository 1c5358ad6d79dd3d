"""The Forward output: a tag's records in, acked chunks out.

`send(tag, records, times, ticket)` encodes the records as Forward entries, adds them to
the tag's open chunk (`ChunkBuilder`) and hands the chunks that filled up to the client;
`run` owns the client and the flusher, which sends chunks that reached `flush_interval`
without filling up; `drain` sends what is still open at shutdown and waits for the acks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from collector.flow import Chunk, Ticket
from collector.forward.batcher import ChunkBuilder
from collector.forward.client import ForwardClient
from collector.forward.config import ForwardConfig
from collector.forward.counters import ClientCounters
from collector.forward.encoder import encode_entries


class ForwardOutput:
    def __init__(
        self,
        cfg: ForwardConfig,
        on_ack: Callable[[Chunk], None],
        on_drop: Callable[[Chunk], None],
        *,
        counters: ClientCounters,
    ) -> None:
        self.client = ForwardClient(cfg, on_ack, on_drop=on_drop, counters=counters)
        self.builder = ChunkBuilder(
            int(cfg.chunk_max_bytes), cfg.chunk_max_records, float(cfg.flush_interval)
        )
        # A chunk was opened: the flusher has a deadline. While none is open it sleeps.
        self._opened = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Chunks sent or queued, not yet acked."""
        return self.client.pending

    async def send(
        self,
        tag: str,
        records: list[dict[str, Any]],
        times: list[int] | None,
        ticket: Ticket,
        *,
        opened: float = 0.0,
    ) -> None:
        """Add one batch's records for `tag` (the ticket rides with the chunk that takes
        them). `opened` is the monotonic time a chunk this opens counts its flush_interval
        from: when the tailer first noticed the bytes (`LineBatch.noticed`), else now."""
        entries = encode_entries(records, times, ticket.read_time_ns)
        now = opened or time.monotonic()
        for chunk in self.builder.add(tag, entries, len(records), ticket, now):
            await self.client.send(chunk)
        self._opened.set()

    async def run(self) -> None:
        """The client and the flusher, until `close`."""
        async with asyncio.TaskGroup() as tg:
            self._flusher = tg.create_task(self._flush_loop())
            await self.client.run()

    async def drain(self, deadline: float) -> bool:
        """Send the open chunks and wait for every ack until `deadline` (monotonic);
        False if it passed first."""
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                for chunk in self.builder.flush_all():
                    await self.client.send(chunk)
        except TimeoutError:
            pass
        return await self.client.drain(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop the flusher, then make `run` return; unacked chunks stay unacked."""
        if self._flusher is not None:
            self._flusher.cancel()
        self.client.close()

    async def _flush_loop(self) -> None:
        """Send chunks that reached flush_interval without filling up; sleep while none is
        open (an idle sidecar runs no timer)."""
        while True:
            deadline = self.builder.next_deadline()
            if deadline is None:
                self._opened.clear()
                await self._opened.wait()
                continue
            await asyncio.sleep(max(0.01, deadline - time.monotonic()))
            for chunk in self.builder.due(time.monotonic()):
                await self.client.send(chunk)
