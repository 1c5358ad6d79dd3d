"""How far did we get, kept on disk: per file, the offset below which every record was acked.

`CheckpointStore` holds the watermarks (collector/acks.py moves them) and persists them
atomically (temp file, fsync, rename) so `kill -9` at any moment leaves either the old or
the new checkpoint, never a torn one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from typing import Annotated, Any

import msgspec

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

    def entry(self, key: str) -> FileCheckpoint | None:
        return self.entries.get(key)

    def has(self, key: str) -> bool:
        return key in self.entries

    def forget(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self.dirty = True

    def set_aside(self, key: str) -> None:
        """Keep the entry of `key` under `key~digest` (the digest of its first bytes) for
        the copy that copytruncate may have made of its file (`set_aside_entries`)."""
        entry = self.entries.get(key)
        if entry is None:
            return
        self.forget(key)
        self.entries[f"{key}~{entry.fingerprint.digest}"] = entry

    def set_aside_entries(self) -> list[tuple[str, FileCheckpoint]]:
        """The entries kept by `set_aside`, as (key, entry), in the store's order."""
        return [(k, e) for k, e in self.entries.items() if "~" in k]

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
