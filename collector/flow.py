"""The typed messages that cross stage boundaries, and the one bound on memory.

tail produces `LineBatch`; parse+redact turn its lines into records; forward packs records
into `Chunk`s. `Ticket`s travel with a chunk so that an ack can advance the checkpoint of
exactly the batches it covers.
"""

from __future__ import annotations

import asyncio

import msgspec

# Per-line flags set by the tailer (bit mask), carried into the record as `_truncated` /
# `_partial` by the pipeline.
FLAG_TRUNCATED = 1
FLAG_PARTIAL = 2


class LineBatch(msgspec.Struct):
    """Complete lines read from one file, in file order.

    `end_offset` is the file offset just past the last byte these lines cover: once every
    record of this batch (and all earlier batches of the file) is acked, the checkpoint of
    `file_key` may move to `end_offset`.
    """

    source: str
    file_key: str
    path: str
    lines: list[bytes]
    start_offset: int
    end_offset: int
    read_time_ns: int
    flags: list[int] | None = None  # None when no line carries a flag (the common case)
    nbytes: int = 0  # bytes of file content covered, for the in-flight budget
    # When the tailer first knew these bytes were there (time.monotonic(), 0 = as read).
    # A trickle is read in gathered rounds (tail/source.py): the chunk it opens counts its
    # flush_interval from here, so gathering does not add to the line's latency.
    noticed: float = 0.0


class Ticket(msgspec.Struct):
    """One batch's claim on its file's checkpoint, released by the ack of its chunk."""

    file_key: str
    seq: int
    end_offset: int
    nbytes: int
    read_time_ns: int
    # How many chunks carry this ticket (a batch whose records go to several tags is split
    # across chunks); the batch is acked when the last of them is.
    parts: int = 1


class Chunk(msgspec.Struct):
    """A PackedForward chunk ready to send: the concatenated msgpack entries of one tag."""

    tag: str
    entries: bytes
    count: int
    tickets: list[Ticket]
    chunk_id: bytes = b""  # 16 random bytes, set when first sent with require_ack
    oldest_read_ns: int = 0


class InFlight:
    """The single bound on memory: bytes read from files and not yet acked downstream.

    The tailer waits in `wait_room` before each read while the budget is spent, so memory
    stays within the limit plus one read chunk; acks call `release` (synchronously, from
    the ack path).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._released = asyncio.Event()

    async def wait_room(self) -> None:
        """Wait until the budget has room; the caller then reads one chunk and `take`s it."""
        while self.used >= self.limit:
            self._released.clear()
            await self._released.wait()

    def take(self, nbytes: int) -> None:
        self.used += nbytes

    def release(self, nbytes: int) -> None:
        self.used = max(0, self.used - nbytes)
        self._released.set()

    @property
    def full(self) -> bool:
        return self.used >= self.limit
