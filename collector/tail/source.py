"""Run one source: discover its files, tell rotations apart, read them all fairly.

Each file is identified by (device, inode) plus the fingerprint of its first bytes (see
fingerprint.py). That one decision settles the hard cases: a renamed file keeps its
reader and is drained through its open handle; a copytruncate copy is recognised by its
first bytes and read on from where the original was; a reused inode with other content
is a new file; on restart, files are matched to checkpoints by identity, not by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import time
from collections.abc import Awaitable, Callable, Collection

from collector.flow import InFlight, LineBatch
from collector.metrics import pipeline as m
from collector.tail.admission import OPEN_FLAGS, Admission
from collector.tail.checkpoint import AckTracker, CheckpointStore
from collector.tail.config import TailConfig
from collector.tail.discovery import discover, display_path, watch_dirs
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
from collector.tail.watcher import DirectoryWatcher

log = logging.getLogger("collector.tail")

Emit = Callable[[LineBatch], Awaitable[None]]

# Reads of one file per round before the next file gets its turn.
_READS_PER_TURN = 4
# With inotify, the poll for what events cannot show (NFS writes, an overflowed queue).
_SAFETY_POLL = 1.0


def _loop_time(monotonic: float) -> float:
    """A time.monotonic() instant on the running loop's clock."""
    return asyncio.get_running_loop().time() + (monotonic - time.monotonic())


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


class _Start:
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


class FileSource:
    """All files of one `sources:` entry."""

    def __init__(
        self,
        cfg: TailConfig,
        store: CheckpointStore,
        tracker: AckTracker,
        inflight: InFlight,
        emit: Emit,
        secret_files: Collection[str] = (),
        gather: float = 0.0,
    ) -> None:
        self.cfg = cfg
        # A trickle of lines is read once per `gather` seconds after the first of them
        # is noticed (the pipeline passes forward.flush_interval: the chunk would wait
        # that long anyway, and its flush clock starts when the bytes were noticed).
        self.gather = gather
        self.admission = Admission(cfg, secret_files)
        self.store = store
        self.tracker = tracker
        self.inflight = inflight
        self.emit = emit
        self.readers: dict[Identity, FileReader] = {}
        self._truncated: list[_Truncated] = []
        # origin ticket key -> copies reading on from it; copy identity key -> held commit
        self._copies: dict[str, list[FileReader]] = {}
        self._held: dict[str, int] = {}
        # copies found before their original was cut -> (original, give up at)
        self._waiting: dict[FileReader, tuple[FileReader, float]] = {}
        self._first_scan = True
        self._full_warned = False
        # read_from: tail, first start: the files found then begin at their end
        self._initial: set[Identity] = set()
        # files refused (not regular, outside the directories, a secret): said once
        self._refused: dict[tuple[str, Identity], str] = {}
        # files that could not be opened: said once, tried again at every scan
        self._warned: set[tuple[str, Identity]] = set()
        # files closed idle at EOF to make room: (when, offset they were read to)
        self._released: dict[Identity, tuple[float, int]] = {}
        self.wakeup = asyncio.Event()  # data may have arrived: read
        self.rescan = asyncio.Event()  # files may have appeared or moved: discover
        self._noticed = 0.0  # when an event first said data may be there (0: none since)
        self._round_noticed = 0.0  # the same, for the batches of the read round under way
        self._behind = False  # the last round left data unread (a flood): read on at once
        self._real_dirs: dict[str, str] = {}  # open file's path -> its real directory

    # -- the loops -----------------------------------------------------------------------
    async def run(self, stopping: asyncio.Event) -> None:
        """Tail until `stopping` is set, then read every file to EOF and return.

        Discovery runs in its own task so that it goes on while reading waits for the
        in-flight budget or for the receiver: a file is opened as soon as it appears, and
        once open it can be read later even if it is renamed out of the globs or deleted.
        """
        loop = asyncio.get_running_loop()
        watcher = DirectoryWatcher(self._changed)
        watcher.start(loop)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._discover(stopping, watcher))
                await self._read(stopping, watcher)
            await self.drain()
        finally:
            watcher.close(loop)
            self.close_all()

    def _changed(self, files: bool) -> None:
        if not self._noticed:
            self._noticed = time.monotonic()
        self.wakeup.set()
        if files:
            self.rescan.set()

    def _poll_every(self, watcher: DirectoryWatcher) -> float:
        """How long discovery sleeps without an event: inotify covers local writes and
        names, so with it the poll is a safety net (NFS, missed events) once a second."""
        poll = float(self.cfg.poll_interval)
        return max(poll, _SAFETY_POLL) if watcher.active else poll

    def _read_every(self, watcher: DirectoryWatcher) -> float | None:
        """How long the read loop sleeps without an event. With inotify, only as long as
        a timer is due (a partial line's timeout, a rotated file to reap, a waiting copy):
        discovery's safety poll wakes it for growth no event showed."""
        if not watcher.active:
            return float(self.cfg.poll_interval)
        timed = self._waiting or any(r.buf or r.rotated for r in self.readers.values())
        return _SAFETY_POLL if timed else None

    async def _discover(self, stopping: asyncio.Event, watcher: DirectoryWatcher) -> None:
        while not stopping.is_set():
            self.rescan.clear()  # events from now on ask for the next scan
            watcher.watch(watch_dirs(self.cfg.paths) | self._open_dirs())
            self.scan()
            await self._sleep(stopping, self.rescan, self._poll_every(watcher))

    def _open_dirs(self) -> set[str]:
        """Where the open files really are (a glob's sub-directory, a link's target): their
        writes wake the reader at once instead of at the next poll."""
        paths = {r.path for r in self.readers.values()}
        known = self._real_dirs
        for path in paths - known.keys():
            known[path] = os.path.dirname(os.path.realpath(path))
        for path in known.keys() - paths:
            del known[path]
        return set(known.values())

    async def _read(self, stopping: asyncio.Event, watcher: DirectoryWatcher) -> None:
        while not stopping.is_set():
            self.wakeup.clear()  # events from now on ask for the next round
            self._round_noticed, self._noticed = self._noticed, 0.0
            got_data = await self.read_round()
            await self.flush_idle(force=False)
            self.reap()
            if got_data and self._behind:
                continue  # a flood: the next round at once, in large batches
            await self._sleep(stopping, self.wakeup, self._read_every(watcher))
            if self.gather and self._noticed and not stopping.is_set():
                await self._gather(stopping, watcher)

    async def _gather(self, stopping: asyncio.Event, watcher: DirectoryWatcher) -> None:
        """Let a trickle of lines gather until `gather` after the first was noticed, asleep:
        one read, one batch, one scan per window instead of one per line written."""
        watcher.pause()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(_loop_time(self._noticed + self.gather)):
                    await stopping.wait()
        finally:
            watcher.resume()

    async def drain(self, quiet: float = 1.0) -> None:
        """At shutdown: every file to EOF, then held and partial lines with their flags.

        Reading goes on until the files have been quiet for `quiet` seconds, because an app
        that got SIGTERM at the same time as we did may still be writing its last lines.
        The pipeline's shutdown deadline bounds the whole drain.
        """
        last_data = time.monotonic()
        while True:
            self.scan()
            if await self.read_round():
                last_data = time.monotonic()
            elif time.monotonic() - last_data >= quiet:
                break
            else:
                await asyncio.sleep(min(self.cfg.poll_interval, quiet))
        await self.flush_idle(force=True)

    async def _sleep(
        self, stopping: asyncio.Event, event: asyncio.Event, timeout: float | None
    ) -> None:
        """Until `event` (cleared by the caller before its work, so that nothing set during
        the work is lost), `stopping`, or `timeout`."""
        waits = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(event.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    # -- discovery and identity ----------------------------------------------------------
    def scan(self) -> None:
        """Match the globs against open readers; open new files; notice rotations.

        Open files are checked first (truncation, fingerprint growth), so that a new file
        is compared with what the open ones hold now when deciding whether it is a copy.
        """
        for reader in list(self.readers.values()):
            self._check_truncation(reader)
            if reader.size > reader.read_pos:
                self.wakeup.set()  # grown without an event (NFS, a missed one): read it
        seen: set[Identity] = set()
        present: set[tuple[str, Identity]] = set()
        candidates: list[tuple[str, Identity]] = []
        for path in discover(self.cfg.paths, self.cfg.exclude):
            try:
                st = os.stat(path)
            except OSError:
                continue
            ident = identity_of(st)
            seen.add(ident)
            present.add((path, ident))
            known = self.readers.get(ident)
            if known is not None:
                known.moved(path)
            elif (path, ident) in self._refused:
                continue
            elif not stat.S_ISREG(st.st_mode):  # a directory, FIFO, socket or device
                self._refuse(path, ident, "not a regular file")
            elif self._has_unread(ident, st.st_size):
                candidates.append((path, ident))
        if self._first_scan and self.cfg.read_from == "tail" and not self.store.existed:
            self._initial = {ident for _, ident in candidates}
        self._mark_rotated(seen)
        self._settle_waiting()  # first: a file released here may be a new file's original
        self._open_candidates(candidates)
        self._first_scan = False
        now = time.monotonic()
        self._truncated = [t for t in self._truncated if t.until > now]
        self._refused = {k: v for k, v in self._refused.items() if k in present}
        self._warned &= present
        self._released = {i: r for i, r in self._released.items() if i in seen}
        m.FILES_OPEN.labels(self.cfg.name).set(len(self.readers))

    def _has_unread(self, ident: Identity, size: int) -> bool:
        """Whether a file not open now needs a handle: new to us, or changed in size since
        it was released idle at EOF."""
        released = self._released.get(ident)
        return released is None or size != released[1]

    def _mark_rotated(self, seen: set[Identity]) -> None:
        for ident, reader in self.readers.items():
            if ident not in seen and not reader.rotated:
                reader.rotated = True
                kind = "delete" if not os.path.exists(reader.path) else "rename"
                m.ROTATIONS.labels(self.cfg.name, kind).inc()
                log.info(
                    "file rotated away; draining it",
                    extra={"source": self.cfg.name, "path": reader.name, "kind": kind},
                )

    def _open_candidates(self, candidates: list[tuple[str, Identity]]) -> None:
        """Open what fits under max_open_files, releasing idle handles to make room.

        The least recently served go first (files never opened, then those released the
        longest ago), so that with more files than handles every file gets its turn.
        Files with a checkpoint of their own come before those without within a turn: a
        file cut while we were stopped must leave its entry for its copy to find.
        """
        room = self.cfg.max_open_files - len(self.readers)
        if len(candidates) > room:
            room += self._release_idle(len(candidates) - room)
            candidates.sort(
                key=lambda c: (
                    self._released.get(c[1], (0.0, 0))[0],
                    c[1].key not in self.store.entries,
                )
            )
            if not self._full_warned:
                log.warning(
                    "max_open_files reached; files wait for idle handles to be released",
                    extra={"source": self.cfg.name, "max_open_files": self.cfg.max_open_files},
                )
                self._full_warned = True
        else:
            candidates.sort(key=lambda c: c[1].key not in self.store.entries)
        tried = opened = 0
        for path, ident in candidates:
            if opened >= room:
                break
            tried += 1
            opened += self._open(path, ident)
        m.FILES_WAITING.labels(self.cfg.name).set(len(candidates) - tried)

    def _release_idle(self, wanted: int) -> int:
        """Close up to `wanted` handles of files read to EOF with nothing left to settle,
        least recently active first; how many were closed."""
        idle = sorted((r for r in self.readers.values() if self._idle(r)), key=_last_data)
        for reader in idle[:wanted]:
            reader.close()
            del self.readers[reader.identity]
            self.tracker.retire(reader.file_key)
            self._released[reader.identity] = (time.monotonic(), reader.buf_offset)
            with contextlib.suppress(KeyError):
                m.FILE_LAG_BYTES.remove(self.cfg.name, reader.name)
        return min(wanted, len(idle))

    def _idle(self, reader: FileReader) -> bool:
        """At EOF, nothing buffered, every batch acked, in no copy bookkeeping: closing
        it loses nothing, and its checkpoint says where to go on when it grows."""
        return (
            not reader.rotated
            and reader.eof_since is not None
            and reader.lag == 0
            and not reader.buf
            and reader not in self._waiting
            and self.tracker.pending(reader.file_key) == 0
            and reader.file_key not in self._copies
            and reader.identity.key not in self._held
            and not any(reader in copies for copies in self._copies.values())
        )

    def _refuse(self, path: str, ident: Identity, reason: str) -> None:
        self._refused[(path, ident)] = reason
        log.warning(
            "file not read",
            extra={"source": self.cfg.name, "path": display_path(path), "reason": reason},
        )

    def _open(self, path: str, ident: Identity) -> bool:
        """Open a new file (without blocking) and start reading it; whether it was opened."""
        try:
            fd = os.open(path, OPEN_FLAGS)
        except OSError as e:
            if (path, ident) not in self._warned:  # said once; retried at every scan
                self._warned.add((path, ident))
                log.warning(
                    "cannot open file",
                    extra={
                        "source": self.cfg.name,
                        "path": display_path(path),
                        "error": e.strerror,
                    },
                )
            return False
        st = os.fstat(fd)
        if identity_of(st) != ident:  # replaced between stat and open; next scan retries
            os.close(fd)
            return False
        reason = self.admission.refusal(fd, st, path)
        if reason is not None:
            os.close(fd)
            self._refuse(path, ident, reason)
            return False
        self._released.pop(ident, None)
        start = self._start(fd, st.st_size, ident, path)
        reader = FileReader(self.cfg, fd, path, ident, start.read_from)
        reader.refresh()
        reader.grow_fingerprint()
        if start.read_from:
            # Where this file starts is itself a checkpoint (a copy continues another file's).
            self._save(reader, start.checkpoint)
        if start.waits_for is not None:
            self._waiting[reader] = (
                start.waits_for,
                time.monotonic() + self.cfg.rotate_wait * 4 + 1.0,
            )
        self.readers[ident] = reader
        self.wakeup.set()  # the read loop may be asleep; this file may hold data already
        self._register(reader, start.checkpoint)
        if start.origin is not None:
            self._copies.setdefault(start.origin, []).append(reader)
        log.info(
            "tailing file",
            extra={
                "source": self.cfg.name,
                "path": reader.name,
                "offset": start.read_from,
                "file": ident.key,
            },
        )
        return True

    def _start(self, fd: int, size: int, ident: Identity, path: str) -> _Start:
        """Where a newly opened file is read from.

        Its own checkpoint, if the file is still the one it was taken of; where the file
        it is a copy of was handed on to, if that file was seen cut; nothing yet, if it
        may be the copy of a file not cut yet (see `_settle_waiting`); else its head.
        The fingerprint alone never moves a file's start past 0.
        """
        shown = display_path(path)
        entry = self.store.entries.get(ident.key)
        if entry is not None:
            if (
                size >= entry.offset
                and same_start(fd, size, entry.fingerprint)
                and holds_before(fd, entry.offset, entry.tail)
            ):
                return _Start(entry.offset)
            # Same inode, other content (inode reuse) or cut below our offset (replaced
            # or truncated while we were stopped): this file is read from 0.
            kind = "truncate" if size < entry.offset else "inode_reuse"
            log.info(
                "checkpoint does not match file; reading it from offset 0",
                extra={"source": self.cfg.name, "path": shown, "reason": kind},
            )
            # Keep it, under another key, for the copy that copytruncate may have made.
            self.store.forget(ident.key)
            self.store.entries[f"{ident.key}~{entry.fingerprint.digest}"] = entry
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
            return _Start(0, waits_for=whole)
        if ident in self._initial:
            self._initial.discard(ident)
            return _Start(size)
        return _Start(0)

    def _copy_of_cut(self, fd: int, size: int) -> _Start | None:
        """A copy of a file seen cut a moment ago reads on from where that was handed on
        to: it starts with that file's first bytes and holds what was read before there.
        One cut has one copy: the record is used up."""
        for t in self._truncated:
            if _holds_copy(fd, size, t.fingerprint, t.handed_offset, t.tail):
                self._truncated.remove(t)
                acked = self.tracker.committed(t.file_key)
                checkpoint = t.handed_offset if acked is None else min(acked, size)
                return _Start(t.handed_offset, checkpoint, t.file_key)
        return None

    def _copy_of_checkpoint(self, fd: int, size: int, ident: Identity) -> _Start | None:
        """After a restart: a copy of a file found cut (its entry kept under `key~digest`)
        reads on from that file's checkpoint."""
        own = f"{ident.key}~"
        for key, entry in list(self.store.entries.items()):
            if "~" not in key or key.startswith(own):
                continue
            if _holds_copy(fd, size, entry.fingerprint, entry.offset, entry.tail):
                self.store.forget(key)  # one copy continues one checkpoint
                return _Start(entry.offset)
        return None

    def _copy_of_whole(self, fd: int, size: int) -> FileReader | None:
        """An open file, still at its path and not cut, of which this file is the start:
        copytruncate may have copied it and be about to cut it. A file still being copied
        may be shorter than a fingerprint (even empty): it is compared byte for byte."""
        head = os.pread(fd, size, 0) if size < FINGERPRINT_BYTES else None
        mine: dict[int, str] = {}  # this file's digest per fingerprint length, taken once
        for reader in self.readers.values():
            fp = reader.fingerprint
            if reader.fd == fd or reader.rotated or reader in self._waiting or fp.length == 0:
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

    def _check_truncation(self, reader: FileReader) -> None:
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
        m.ROTATIONS.labels(self.cfg.name, "truncate").inc()
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
        self._register(reader)

    def _release_copies_of(self, origin: FileReader) -> bool:
        """The original was cut: its copy reads on from where the original was handed on.

        Whether a copy holding all that was handed on was found. A waiting file shorter
        than that (a prefix of the original: a file with only the banner) reads on from
        its end but proves nothing: the real copy may still come. A waiting file that does
        not hold what the original held there is a new file, read from 0."""
        found = False
        acked = self.tracker.committed(origin.file_key)
        handed, tail = origin.buf_offset, origin.tail_digest()
        for copy, (waits_for, _) in list(self._waiting.items()):
            if waits_for is origin:
                del self._waiting[copy]
                self.wakeup.set()
                copy.refresh()  # the copy may have been half written when it was found
                holds = copy.size >= handed
                if holds and not holds_before(copy.fd, handed, tail):
                    continue
                copy.jump(min(handed, copy.size))
                checkpoint = copy.buf_offset if acked is None else min(acked, copy.buf_offset)
                self._save(copy, checkpoint)
                self._register(copy, checkpoint)
                self._copies.setdefault(origin.file_key, []).append(copy)
                found = found or holds
        return found

    def _settle_waiting(self) -> None:
        """A file taken for a copy whose original was not cut is a new file after all,
        read from 0: once it stops being the original's start (both grew apart), once the
        original left its path, or at the deadline. Duplicates are possible, loss is not."""
        now = time.monotonic()
        for copy, (whole, until) in list(self._waiting.items()):
            size = copy.refresh().st_size
            if until > now and _still_at(whole) and _copy_of(copy.fd, size, whole):
                continue
            del self._waiting[copy]
            other = self._copy_of_whole(copy.fd, size) if until > now else None
            if other is not None:  # found while still empty or short: another's copy
                self._waiting[copy] = (other, until)
                continue
            self.wakeup.set()
            log.info(
                "file is not a copy of the file it starts like; reading it from offset 0",
                extra={"source": self.cfg.name, "path": copy.name, "original": whole.name},
            )

    def _register(self, reader: FileReader, start_offset: int = 0) -> None:
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
        self._save(reader, offset)

    def _save(self, reader: FileReader, offset: int) -> None:
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
                self._save(copy, held)
            elif held is None and key in self.store.entries:
                entry = self.store.entries[key]
                if offset > entry.offset and offset <= copy.buf_offset:
                    self._save(copy, offset)
        if done:
            del self._copies[origin]

    # -- reading -------------------------------------------------------------------------
    async def read_round(self) -> bool:
        """One fair turn over every file; whether any data was read."""
        got = self._behind = False
        for reader in list(self.readers.values()):
            if reader.fd >= 0 and reader not in self._waiting:
                # copytruncate may have cut and refilled the file since the last round:
                # never read new content from the old offset.
                self._check_truncation(reader)
            for _ in range(_READS_PER_TURN):
                if self.inflight.full:
                    m.TAIL_PAUSED.set(1)
                    await self.inflight.wait_room()
                    m.TAIL_PAUSED.set(0)
                if reader.fd < 0 or reader in self._waiting:
                    break
                batch = reader.read(time.time_ns())
                if batch is None:
                    break
                got = True
                batch.noticed = self._round_noticed
                await self._hand_on(batch)
            else:
                self._behind = True  # this file's turn ended with data still coming
        for reader in self.readers.values():
            m.FILE_LAG_BYTES.labels(self.cfg.name, reader.name).set(reader.lag)
        return got

    async def flush_idle(self, force: bool) -> None:
        for reader in list(self.readers.values()):
            while (batch := reader.flush_idle(time.time_ns(), force=force)) is not None:
                await self._hand_on(batch)

    async def _hand_on(self, batch: LineBatch) -> None:
        self.inflight.take(batch.nbytes)
        await self.emit(batch)
        # Let the client send and read acks between batches: without this a file that
        # fits in the budget would be read whole before the first byte leaves.
        await asyncio.sleep(0)

    def reap(self) -> None:
        """Close files rotated away once read to EOF and quiet for rotate_wait."""
        now = time.monotonic()
        for ident, reader in list(self.readers.items()):
            if not reader.rotated or reader.eof_since is None:
                continue
            if now - reader.eof_since < self.cfg.rotate_wait:
                continue
            if reader.buf:
                continue  # a partial line still waits for flush_idle
            reader.close()
            del self.readers[ident]
            self.tracker.retire(reader.file_key)
            with contextlib.suppress(KeyError):
                m.FILE_LAG_BYTES.remove(self.cfg.name, reader.name)
            log.info("released rotated file", extra={"source": self.cfg.name, "path": reader.name})

    def live_keys(self) -> set[str]:
        """Files present now, open or released idle: their checkpoints must not expire."""
        return {ident.key for ident in self.readers} | {ident.key for ident in self._released}

    def close_all(self) -> None:
        for reader in self.readers.values():
            reader.close()
        m.FILES_OPEN.labels(self.cfg.name).set(0)
        m.FILES_WAITING.labels(self.cfg.name).set(0)


def _last_data(reader: FileReader) -> float:
    return reader.last_data


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
