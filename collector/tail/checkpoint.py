"""How far did we get: per file, the offset below which every record was acked.

Two parts. `AckTracker` turns acks, which arrive in any order, into a per-file watermark
that only moves over a contiguous run of acked batches. `CheckpointStore` persists those
watermarks atomically (temp file, fsync, rename) so `kill -9` at any moment leaves either
the old or the new checkpoint, never a torn one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from collector.flow import Ticket
from collector.tail.fingerprint import FINGERPRINT_BYTES, Fingerprint

log = logging.getLogger("collector.tail")

CHECKPOINT_FILE = "checkpoints.json"


class _StoredFingerprint(msgspec.Struct):
    """A fingerprint as read back from disk: checked, because a hand-edited or corrupt
    file must cost one entry, not the start of the collector."""

    length: Annotated[int, msgspec.Meta(ge=0, le=FINGERPRINT_BYTES)]
    digest: str


class _StoredEntry(msgspec.Struct):
    # "dev:ino", or "dev:ino~digest" for the entry of a file cut by copytruncate (source.py)
    key: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+:[0-9]+(~[0-9a-f]*)?$")]
    offset: Annotated[int, msgspec.Meta(ge=0)]
    fingerprint: _StoredFingerprint
    path: str
    updated: float
    tail: str = ""


class FileCheckpoint(msgspec.Struct):
    key: str  # "dev:ino"
    offset: int
    fingerprint: Fingerprint
    path: str
    updated: float  # unix time of the last ack or of the last time the file was seen
    # Digest of the bytes just before `offset` (up to FINGERPRINT_BYTES): a file that starts
    # like this one (a banner) but holds other bytes there is not this file, or its copy.
    tail: str = ""


class CheckpointFile(msgspec.Struct):
    version: int = 1
    files: list[FileCheckpoint] = []


class _LoadedFile(msgspec.Struct):
    """The file's shape, with each entry left raw to be checked on its own."""

    version: int = 1
    files: list[Any] = []


class CheckpointStore:
    """The checkpoint file of one collector, loaded at start and saved at a bounded rate."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, CHECKPOINT_FILE)
        self.entries: dict[str, FileCheckpoint] = {}
        self.existed = False
        self.dirty = False
        self.last_saved = time.time()

    def load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                data = msgspec.json.decode(f.read(), type=_LoadedFile)
        except FileNotFoundError:
            return
        except (OSError, msgspec.DecodeError) as e:
            # A corrupt checkpoint must not stop the collector; reading from the head
            # duplicates records but loses none.
            log.error(
                "checkpoint unreadable, starting from the head",
                extra={"path": self.path, "error": str(e)},
            )
            return
        self.existed = True
        self.entries = {}
        for i, raw in enumerate(data.files):
            entry = _valid_entry(raw)
            if entry is None:
                log.warning(
                    "checkpoint entry invalid; dropped (its file is read from the head)",
                    extra={"path": self.path, "entry": i},
                )
                continue
            self.entries[entry.key] = entry

    def update(
        self, key: str, offset: int, fingerprint: Fingerprint, path: str, tail: str = ""
    ) -> None:
        self.entries[key] = FileCheckpoint(key, offset, fingerprint, path, time.time(), tail)
        self.dirty = True

    def touch(self, key: str) -> None:
        """Mark a file as still present so its entry does not expire."""
        entry = self.entries.get(key)
        if entry is not None:
            entry.updated = time.time()

    def forget(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self.dirty = True

    def expire(self, max_age: float, live_keys: set[str]) -> None:
        cutoff = time.time() - max_age
        for key in [
            k for k, e in self.entries.items() if k not in live_keys and e.updated < cutoff
        ]:
            self.forget(key)

    def snapshot(self) -> bytes:
        """The current entries, encoded; taken on the event loop so `write` can run elsewhere."""
        self.dirty = False
        return msgspec.json.encode(CheckpointFile(files=list(self.entries.values())))

    def save(self) -> None:
        self.write(self.snapshot())

    def write(self, data: bytes) -> None:
        """Write atomically; raises OSError (disk full, read-only) for the caller to count."""
        try:
            self._write(data)
        except BaseException:
            self.dirty = True
            raise

    def _write(self, data: bytes) -> None:
        os.makedirs(self.directory, exist_ok=True)
        tmp = f"{self.path}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self.last_saved = time.time()


def _valid_entry(raw: Any) -> FileCheckpoint | None:
    """`raw` as a checkpoint entry, or None when it is not one (a negative offset, a
    fingerprint longer than we take, a key that is no `dev:ino`, a wrong type)."""
    try:
        e = msgspec.convert(raw, _StoredEntry)
    except msgspec.ValidationError:
        return None
    fp = Fingerprint(e.fingerprint.length, e.fingerprint.digest)
    return FileCheckpoint(e.key, e.offset, fp, e.path, e.updated, e.tail)


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
