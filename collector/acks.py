"""From acks, which arrive in any order, to a per-file watermark: the offset below which
every batch of the file was acked.

Each batch read gets a `Ticket` (collector/flow.py) when it enters the pipeline; the
watermark of its file moves only over a contiguous run of acked tickets, and whoever
registered the file (tail/rotation.py) is told each time it moves.
"""

from __future__ import annotations

from collections.abc import Callable

from collector.flow import Ticket


class _FileMarks:
    __slots__ = (
        "acked",
        "committed",
        "committed_seq",
        "next_seq",
        "offsets",
        "on_commit",
        "read_times",
        "retired",
    )

    def __init__(self, on_commit: Callable[[int], None], start_offset: int) -> None:
        self.committed = start_offset
        self.next_seq = 0
        self.committed_seq = -1
        self.acked: set[int] = set()
        self.offsets: dict[int, int] = {}
        self.read_times: dict[int, int] = {}
        self.on_commit = on_commit
        self.retired = False


class AckTracker:
    """Per-file watermark over batches: the offset moves only over contiguous acks."""

    def __init__(self) -> None:
        self._files: dict[str, _FileMarks] = {}

    def register(
        self, file_key: str, on_commit: Callable[[int], None], start_offset: int = 0
    ) -> None:
        """`on_commit(offset)` is called whenever the watermark of `file_key` moves."""
        self._files[file_key] = _FileMarks(on_commit, start_offset)

    def issue(self, file_key: str, end_offset: int, nbytes: int, read_time_ns: int) -> Ticket:
        marks = self._files[file_key]
        seq = marks.next_seq
        marks.next_seq += 1
        marks.offsets[seq] = end_offset
        marks.read_times[seq] = read_time_ns
        return Ticket(file_key, seq, end_offset, nbytes, read_time_ns)

    def acked(self, ticket: Ticket) -> None:
        marks = self._files.get(ticket.file_key)
        if marks is None or ticket.seq <= marks.committed_seq:
            return
        marks.acked.add(ticket.seq)
        seq = marks.committed_seq
        offset = None
        while seq + 1 in marks.acked:
            seq += 1
            marks.acked.discard(seq)
            offset = marks.offsets.pop(seq)
            marks.read_times.pop(seq, None)
        if offset is not None:
            marks.committed_seq = seq
            marks.committed = offset
            marks.on_commit(offset)
        if marks.retired and not marks.offsets:
            del self._files[ticket.file_key]

    def committed(self, file_key: str) -> int | None:
        """The watermark of `file_key`; None once it is forgotten (everything acked)."""
        marks = self._files.get(file_key)
        return None if marks is None else marks.committed

    def pending(self, file_key: str) -> int:
        marks = self._files.get(file_key)
        return 0 if marks is None else marks.next_seq - 1 - marks.committed_seq

    def retire(self, file_key: str) -> None:
        """No more tickets will be issued for `file_key`; forget it once all are acked."""
        marks = self._files.get(file_key)
        if marks is None:
            return
        marks.retired = True
        if not marks.offsets:
            del self._files[file_key]

    def oldest_unacked_ns(self) -> int | None:
        oldest = [min(m.read_times.values()) for m in self._files.values() if m.read_times]
        return min(oldest) if oldest else None
