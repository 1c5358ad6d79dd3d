"""Which file is this one's continuation: rename and copytruncate linkage of one source.

A renamed file keeps its reader (source.py drains it through its open handle); this module
settles the rest. A newly found file starts at its own checkpoint, or where the file it is
a copy of was handed on to; a file cut by copytruncate is noticed before each read and its
copy is linked to it; a copy's checkpoint is held while the original's acks are pending;
a file that only looks like a copy of a file not cut yet waits for the cut (or for proof
that it is a new file).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from collector.acks import AckTracker
from collector.tail.checkpoint import CheckpointStore
from collector.tail.config import TailConfig
from collector.tail.counters import TailCounters
from collector.tail.discovery import display_path
from collector.tail.fingerprint import (
    FINGERPRINT_BYTES,
    MIN_MATCH_BYTES,
    Fingerprint,
    Identity,
    fingerprint_fd,
    holds_before,
    identity_of,
    same_prefix,
    same_start,
)
from collector.tail.reader import FileReader

log = logging.getLogger("collector.tail")


class _Truncated:
    """What a file was before copytruncate cut it, so its copy can be matched: its first
    bytes, and the bytes just before where it was handed on to (`tail`, a digest)."""

    __slots__ = ("file_key", "fingerprint", "handed_offset", "tail", "until")

    def __init__(
        self,
        fingerprint: Fingerprint,
        handed_offset: int,
        file_key: str,
        until: float,
        tail: str,
    ) -> None:
        self.fingerprint = fingerprint
        self.handed_offset = handed_offset
        self.file_key = file_key
        self.until = until
        self.tail = tail


class Start:
    """Where a newly found file is read from, and what its checkpoint may say meanwhile.

    For a copy of a file still being acked, `read_from` is where the original was handed
    on to, `checkpoint` the original's acked watermark, and `origin` the original's ticket
    key: the copy's own acks may not move its checkpoint while the original's are pending.
    A copy of a file that is still whole (copytruncate copied it and has not cut it yet)
    `waits_for` that file: until the cut, the original still delivers those bytes itself.
    """

    __slots__ = ("checkpoint", "origin", "read_from", "waits_for")

    def __init__(
        self,
        read_from: int,
        checkpoint: int | None = None,
        origin: str | None = None,
        waits_for: FileReader | None = None,
    ) -> None:
        self.read_from = read_from
        self.checkpoint = read_from if checkpoint is None else checkpoint
        self.origin = origin
        self.waits_for = waits_for


class Rotation:
    """The linkage between the files of one source: cuts, copies, held commits, waiting
    copies. `readers` is the source's own map of open files, shared, not copied."""

    def __init__(
        self,
        cfg: TailConfig,
        store: CheckpointStore,
        tracker: AckTracker,
        readers: dict[Identity, FileReader],
        wake: Callable[[], None],
        counters: TailCounters,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.tracker = tracker
        self.readers = readers
        self._m = counters
        self._wake = wake  # the read loop may be asleep: a copy released here has data
        self._truncated: list[_Truncated] = []
        # origin ticket key -> copies reading on from it; copy identity key -> held commit
        self._copies: dict[str, list[FileReader]] = {}
        self._held: dict[str, int] = {}
        # copies found before their original was cut -> (original, give up at)
        self.waiting: dict[FileReader, tuple[FileReader, float]] = {}

    # -- a new file ----------------------------------------------------------------------
    def start(self, fd: int, size: int, ident: Identity, path: str) -> Start | None:
        """Where a newly opened file is read from, if anything we know says so.

        Its own checkpoint, if the file is still the one it was taken of; where the file
        it is a copy of was handed on to, if that file was seen cut; nothing yet, if it
        may be the copy of a file not cut yet (see `settle_waiting`); else None (the
        caller reads it from its head, or from its end). The fingerprint alone never
        moves a file's start past 0.
        """
        shown = display_path(path)
        entry = self.store.entry(ident.key)
        if entry is not None:
            if (
                size >= entry.offset
                and same_start(fd, size, entry.fingerprint)
                and holds_before(fd, entry.offset, entry.tail)
            ):
                return Start(entry.offset)
            # Same inode, other content (inode reuse) or cut below our offset (replaced
            # or truncated while we were stopped): this file is read from 0.
            kind = "truncate" if size < entry.offset else "inode_reuse"
            log.info(
                "checkpoint does not match file; reading it from offset 0",
                extra={"source": self.cfg.name, "path": shown, "reason": kind},
            )
            # Keep it, under another key, for the copy that copytruncate may have made.
            self.store.set_aside(ident.key)
        copied = self._copy_of_cut(fd, size) or self._copy_of_checkpoint(fd, size, ident)
        if copied is not None:
            log.info(
                "file is a copy of a tailed file; reading on from its offset",
                extra={"source": self.cfg.name, "path": shown, "offset": copied.read_from},
            )
            return copied
        whole = self._copy_of_whole(fd, size)
        if whole is not None:
            log.info(
                "file may be a copy of a tailed file; waiting for that file's truncation",
                extra={"source": self.cfg.name, "path": shown, "original": whole.name},
            )
            return Start(0, waits_for=whole)
        return None

    def link(self, reader: FileReader, start: Start) -> None:
        """`reader` was opened at `start`: tie a copy to the original whose acks it follows,
        or to the file not cut yet that it waits for."""
        if start.waits_for is not None:
            self.waiting[reader] = (
                start.waits_for,
                time.monotonic() + self.cfg.rotate_wait * 4 + 1.0,
            )
        if start.origin is not None:
            self._copies.setdefault(start.origin, []).append(reader)

    def _copy_of_cut(self, fd: int, size: int) -> Start | None:
        """A copy of a file seen cut a moment ago reads on from where that was handed on
        to: it starts with that file's first bytes and holds what was read before there.
        One cut has one copy: the record is used up."""
        for t in self._truncated:
            if _holds_copy(fd, size, t.fingerprint, t.handed_offset, t.tail):
                self._truncated.remove(t)
                acked = self.tracker.committed(t.file_key)
                checkpoint = t.handed_offset if acked is None else min(acked, size)
                return Start(t.handed_offset, checkpoint, t.file_key)
        return None

    def _copy_of_checkpoint(self, fd: int, size: int, ident: Identity) -> Start | None:
        """After a restart: a copy of a file found cut (its entry kept under `key~digest`)
        reads on from that file's checkpoint."""
        own = f"{ident.key}~"
        for key, entry in self.store.set_aside_entries():
            if key.startswith(own):
                continue
            if _holds_copy(fd, size, entry.fingerprint, entry.offset, entry.tail):
                self.store.forget(key)  # one copy continues one checkpoint
                return Start(entry.offset)
        return None

    def _copy_of_whole(self, fd: int, size: int) -> FileReader | None:
        """An open file, still at its path and not cut, of which this file is the start:
        copytruncate may have copied it and be about to cut it. A file still being copied
        may be shorter than a fingerprint (even empty): it is compared byte for byte."""
        head = os.pread(fd, size, 0) if size < FINGERPRINT_BYTES else None
        mine: dict[int, str] = {}  # this file's digest per fingerprint length, taken once
        for reader in self.readers.values():
            fp = reader.fingerprint
            if reader.fd == fd or reader.rotated or reader in self.waiting or fp.length == 0:
                continue
            if head is None:
                if fp.length < MIN_MATCH_BYTES:
                    continue
                if fp.length not in mine:
                    mine[fp.length] = fingerprint_fd(fd, size, fp.length).digest
                if mine[fp.length] != fp.digest:
                    continue
            elif os.pread(reader.fd, size, 0) != head:
                continue
            if _still_at(reader) and _copy_of(fd, size, reader):
                return reader
        return None

    # -- a cut ---------------------------------------------------------------------------
    def check_truncation(self, reader: FileReader) -> None:
        try:
            reader.refresh()
        except OSError:
            return
        before = reader.fingerprint
        if reader.size >= reader.read_pos and (
            before.length == 0 or same_start(reader.fd, reader.size, before)
        ):
            reader.grow_fingerprint()
            return
        self._m.rotations.labels(self.cfg.name, "truncate").inc()
        log.warning(
            "file truncated (copytruncate?); reading it from offset 0",
            extra={
                "source": self.cfg.name,
                "path": reader.name,
                "offset": reader.read_pos,
                "size": reader.size,
            },
        )
        if not self._release_copies_of(reader):  # no copy found yet: one may come
            self._truncated.append(
                _Truncated(
                    before,
                    reader.buf_offset,
                    reader.file_key,
                    time.monotonic() + self.cfg.rotate_wait * 4 + 1.0,
                    reader.tail_digest(),
                )
            )
        self.tracker.retire(reader.file_key)
        reader.restart_at_zero()
        reader.fingerprint = fingerprint_fd(reader.fd, reader.size)
        self.register(reader)

    def _release_copies_of(self, origin: FileReader) -> bool:
        """The original was cut: its copy reads on from where the original was handed on.

        Whether a copy holding all that was handed on was found. A waiting file shorter
        than that (a prefix of the original: a file with only the banner) reads on from
        its end but proves nothing: the real copy may still come. A waiting file that does
        not hold what the original held there is a new file, read from 0."""
        found = False
        acked = self.tracker.committed(origin.file_key)
        handed, tail = origin.buf_offset, origin.tail_digest()
        for copy, (waits_for, _) in list(self.waiting.items()):
            if waits_for is origin:
                del self.waiting[copy]
                self._wake()
                copy.refresh()  # the copy may have been half written when it was found
                holds = copy.size >= handed
                if holds and not holds_before(copy.fd, handed, tail):
                    continue
                copy.jump(min(handed, copy.size))
                checkpoint = copy.buf_offset if acked is None else min(acked, copy.buf_offset)
                self.save(copy, checkpoint)
                self.register(copy, checkpoint)
                self._copies.setdefault(origin.file_key, []).append(copy)
                found = found or holds
        return found

    def forget_old_cuts(self, now: float) -> None:
        """Cuts whose copy did not turn up in time are no longer looked for."""
        self._truncated = [t for t in self._truncated if t.until > now]

    def settle_waiting(self) -> None:
        """A file taken for a copy whose original was not cut is a new file after all,
        read from 0: once it stops being the original's start (both grew apart), once the
        original left its path, or at the deadline. Duplicates are possible, loss is not."""
        now = time.monotonic()
        for copy, (whole, until) in list(self.waiting.items()):
            size = copy.refresh().st_size
            if until > now and _still_at(whole) and _copy_of(copy.fd, size, whole):
                continue
            del self.waiting[copy]
            other = self._copy_of_whole(copy.fd, size) if until > now else None
            if other is not None:  # found while still empty or short: another's copy
                self.waiting[copy] = (other, until)
                continue
            self._wake()
            log.info(
                "file is not a copy of the file it starts like; reading it from offset 0",
                extra={"source": self.cfg.name, "path": copy.name, "original": whole.name},
            )

    def settled(self, reader: FileReader) -> bool:
        """Whether `reader` is in no copy bookkeeping (neither copy nor original)."""
        return (
            reader not in self.waiting
            and reader.file_key not in self._copies
            and reader.identity.key not in self._held
            and not any(reader in copies for copies in self._copies.values())
        )

    # -- checkpoints ---------------------------------------------------------------------
    def register(self, reader: FileReader, start_offset: int = 0) -> None:
        generation = reader.generation
        file_key = reader.file_key

        def on_commit(offset: int) -> None:
            if reader.generation == generation:
                self._commit(reader, offset)
            self._carry_to_copies(file_key, offset)

        self.tracker.register(file_key, on_commit, start_offset)

    def _commit(self, reader: FileReader, offset: int) -> None:
        """Move a file's checkpoint, unless it is a copy whose original still waits for acks."""
        key = reader.identity.key
        for origin, copies in self._copies.items():
            if reader in copies and self.tracker.pending(origin) > 0:
                self._held[key] = offset
                return
        self._held.pop(key, None)
        self.save(reader, offset)

    def save(self, reader: FileReader, offset: int) -> None:
        """The file's checkpoint: its offset, first bytes and the bytes before the offset."""
        self.store.update(
            reader.identity.key,
            offset,
            reader.fingerprint,
            reader.name,
            reader.digest_before(offset),
        )

    def _carry_to_copies(self, origin: str, offset: int) -> None:
        """The original's acks are the copy's checkpoint until the copy has its own."""
        copies = self._copies.get(origin)
        if not copies:
            return
        done = self.tracker.pending(origin) == 0
        for copy in copies:
            key = copy.identity.key
            held = self._held.pop(key, None) if done else self._held.get(key)
            if held is not None and done:
                self.save(copy, held)
            elif (
                held is None
                and (entry := self.store.entry(key)) is not None
                and offset > entry.offset
                and offset <= copy.buf_offset
            ):
                self.save(copy, offset)
        if done:
            del self._copies[origin]


def _holds_copy(fd: int, size: int, first: Fingerprint, read_to: int, tail: str) -> bool:
    """Whether the file at `fd` holds what a cut file held up to `read_to`: its first bytes
    (enough of them to tell) and, just before `read_to`, the bytes `tail` digests."""
    return (
        first.length >= MIN_MATCH_BYTES
        and size >= read_to
        and same_start(fd, size, first)
        and holds_before(fd, read_to, tail)
    )


def _copy_of(fd: int, size: int, original: FileReader) -> bool:
    """Whether the file at `fd` may be a copy of `original` taken before it grew on: no
    longer than it is now, and the same bytes as far as `same_prefix` compares."""
    try:
        now = os.fstat(original.fd).st_size
    except OSError:  # closed meanwhile
        return False
    if now < original.read_pos or not same_start(original.fd, now, original.fingerprint):
        return True  # cut since the scan checked it: the next check settles the copy
    return size <= now and same_prefix(fd, size, original.fd, now)


def _still_at(reader: FileReader) -> bool:
    """Whether the path the reader was found under still leads to its file (copytruncate
    keeps a file in place; rename rotation moves it away)."""
    try:
        return identity_of(os.stat(reader.path)) == reader.identity
    except OSError:
        return False
