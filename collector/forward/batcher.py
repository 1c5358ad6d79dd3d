"""Group encoded batches into chunks, one open chunk per tag.

A chunk is closed when it reaches a byte or record bound, or when it has been open for
`flush_interval`. A batch is never split: its ticket (its claim on a file offset) belongs
to exactly one chunk, so one ack releases it whole. The price is that a single batch
larger than `max_bytes` makes a chunk larger than `max_bytes`.
"""

from __future__ import annotations

from collector.flow import Chunk, Ticket


class _OpenChunk:
    __slots__ = ("count", "nbytes", "oldest_read_ns", "opened", "parts", "tickets")

    def __init__(self, now: float) -> None:
        self.parts: list[bytes] = []
        self.tickets: list[Ticket] = []
        self.count = 0
        self.nbytes = 0
        self.opened = now
        self.oldest_read_ns = 0

    def close(self, tag: str) -> Chunk:
        return Chunk(
            tag=tag,
            entries=b"".join(self.parts),
            count=self.count,
            tickets=self.tickets,
            oldest_read_ns=self.oldest_read_ns,
        )


class ChunkBuilder:
    def __init__(self, max_bytes: int, max_records: int, flush_interval: float) -> None:
        self.max_bytes = max_bytes
        self.max_records = max_records
        self.flush_interval = flush_interval
        self._open: dict[str, _OpenChunk] = {}

    def add(
        self, tag: str, entries: bytes, count: int, ticket: Ticket | None, now: float
    ) -> list[Chunk]:
        """Append one batch's entries; returns the chunks that became full."""
        full: list[Chunk] = []
        current = self._open.get(tag)
        if (
            current is not None
            and current.count
            and (
                current.nbytes + len(entries) > self.max_bytes
                or current.count + count > self.max_records
            )
        ):
            full.append(current.close(tag))
            current = None
        if current is None:
            current = self._open[tag] = _OpenChunk(now)
        current.parts.append(entries)
        current.nbytes += len(entries)
        current.count += count
        if ticket is not None:
            current.tickets.append(ticket)
            if ticket.read_time_ns and (
                current.oldest_read_ns == 0 or ticket.read_time_ns < current.oldest_read_ns
            ):
                current.oldest_read_ns = ticket.read_time_ns
        if current.nbytes >= self.max_bytes or current.count >= self.max_records:
            full.append(current.close(tag))
            del self._open[tag]
        return full

    def due(self, now: float) -> list[Chunk]:
        """Chunks open for at least `flush_interval`."""
        tags = [t for t, c in self._open.items() if now - c.opened >= self.flush_interval]
        return [self._open.pop(t).close(t) for t in tags]

    def flush_all(self) -> list[Chunk]:
        chunks = [c.close(t) for t, c in self._open.items() if c.count or c.tickets]
        self._open.clear()
        return chunks

    def next_deadline(self) -> float | None:
        """When the oldest open chunk becomes due (same clock as `now`), None if none is open."""
        if not self._open:
            return None
        return min(c.opened for c in self._open.values()) + self.flush_interval
