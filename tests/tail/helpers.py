"""A file source driven without a network: batches are collected and acked by the test."""

from __future__ import annotations

import asyncio
from pathlib import Path

from collector.acks import AckTracker
from collector.flow import InFlight, LineBatch
from collector.tail.checkpoint import CheckpointStore
from collector.tail.config import TailConfig
from collector.tail.counters import UNCOUNTED, TailCounters
from collector.tail.source import FileSource


def luhn_complete(body: str) -> str:
    """`body` plus its Luhn check digit: a number the redactor takes for a card, built in
    the test (never a real card)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


# A Visa-prefixed 16-digit test number with a valid check digit.
TEST_CARD = luhn_complete("424242000011112")


class Harness:
    def __init__(
        self,
        tmp: Path,
        pattern: str = "*.log",
        secret_files: tuple[str, ...] = (),
        counters: TailCounters = UNCOUNTED,
        **source: object,
    ) -> None:
        self.secret_files = secret_files
        self.counters = counters
        self.logs = tmp / "logs"
        self.logs.mkdir(exist_ok=True)
        self.state = tmp / "state"
        opts: dict[str, object] = {"poll_interval": 0.01, "rotate_wait": 0.05}
        opts.update(source)
        self.cfg = TailConfig(name="t", paths=[str(self.logs / pattern)], **opts)  # type: ignore[arg-type]
        self.batches: list[LineBatch] = []
        self.tickets: list[object] = []
        self.auto_ack = True
        self.new_process()

    def new_process(self) -> None:
        """A fresh collector over the same files and checkpoint dir (a restart)."""
        self.store = CheckpointStore(str(self.state))
        self.store.load()
        self.tracker = AckTracker()
        self.inflight = InFlight(1 << 30)
        self.source = FileSource(
            self.cfg,
            self.store,
            self.tracker,
            self.inflight,
            self._emit,
            self.secret_files,
            counters=self.counters,
        )

    async def _emit(self, batch: LineBatch) -> None:
        ticket = self.tracker.issue(
            batch.file_key, batch.end_offset, batch.nbytes, batch.read_time_ns
        )
        self.batches.append(batch)
        if self.auto_ack:
            self.tracker.acked(ticket)
            self.inflight.release(batch.nbytes)
        else:
            self.tickets.append(ticket)

    def lines(self) -> list[bytes]:
        return [line for b in self.batches for line in b.lines]

    async def step(self, rounds: int = 3) -> None:
        for _ in range(rounds):
            self.source.scan()
            while await self.source.read_round():
                pass
            await self.source.flush_idle(force=False)
            self.source.reap()

    async def stop(self) -> None:
        await self.source.drain(quiet=0)
        self.source.close_all()
        self.store.save()

    @staticmethod
    async def settle() -> None:
        await asyncio.sleep(0)
