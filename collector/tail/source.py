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
import time
from collections.abc import Awaitable, Callable

from collector.flow import InFlight, LineBatch
from collector.metrics import pipeline as m
from collector.tail.checkpoint import AckTracker, CheckpointStore
from collector.tail.config import SourceConfig
from collector.tail.discovery import discover, watch_dirs
from collector.tail.fingerprint import (
    MIN_MATCH_BYTES,
    Fingerprint,
    Identity,
    fingerprint_fd,
    identity_of,
    same_start,
)
from collector.tail.reader import FileReader
from collector.tail.watcher import DirectoryWatcher

log = logging.getLogger("collector.tail")

Emit = Callable[[LineBatch], Awaitable[None]]

# Reads of one file per round before the next file gets its turn.
_READS_PER_TURN = 4


class _Truncated:
    """What a file was before copytruncate cut it, so its copy can be matched."""

    __slots__ = ("file_key", "fingerprint", "handed_offset", "until")

    def __init__(
        self, fingerprint: Fingerprint, handed_offset: int, file_key: str, until: float
    ) -> None:
        self.fingerprint = fingerprint
        self.handed_offset = handed_offset
        self.file_key = file_key
        self.until = until


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
        cfg: SourceConfig,
        store: CheckpointStore,
        tracker: AckTracker,
        inflight: InFlight,
        emit: Emit,
    ) -> None:
        self.cfg = cfg
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
        self.wakeup = asyncio.Event()  # data may have arrived: read
        self.rescan = asyncio.Event()  # files may have appeared or moved: discover

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
                await self._read(stopping)
            await self.drain()
        finally:
            watcher.close(loop)
            self.close_all()

    def _changed(self) -> None:
        self.wakeup.set()
        self.rescan.set()

    async def _discover(self, stopping: asyncio.Event, watcher: DirectoryWatcher) -> None:
        while not stopping.is_set():
            watcher.watch(watch_dirs(self.cfg.paths))
            self.scan()
            await self._sleep(stopping, self.rescan)

    async def _read(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            got_data = await self.read_round()
            await self.flush_idle(force=False)
            self.reap()
            if not got_data:
                await self._sleep(stopping, self.wakeup)

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

    async def _sleep(self, stopping: asyncio.Event, event: asyncio.Event) -> None:
        event.clear()
        waits = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(event.wait())]
        try:
            await asyncio.wait(
                waits, timeout=self.cfg.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
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
        seen: set[Identity] = set()
        for path in discover(self.cfg.paths, self.cfg.exclude):
            try:
                st = os.stat(path)
            except OSError:
                continue
            ident = identity_of(st)
            seen.add(ident)
            known = self.readers.get(ident)
            if known is not None:
                known.path = path
                continue
            if len(self.readers) >= self.cfg.max_open_files:
                if not self._full_warned:
                    log.warning(
                        "max_open_files reached; new files wait",
                        extra={"source": self.cfg.name, "max_open_files": self.cfg.max_open_files},
                    )
                    self._full_warned = True
                continue
            self._open(path, ident)
        for ident, reader in self.readers.items():
            if ident not in seen and not reader.rotated:
                reader.rotated = True
                kind = "delete" if not os.path.exists(reader.path) else "rename"
                m.ROTATIONS.labels(self.cfg.name, kind).inc()
                log.info(
                    "file rotated away; draining it",
                    extra={"source": self.cfg.name, "path": reader.path, "kind": kind},
                )
        self._expire_waiting()
        self._first_scan = False
        now = time.monotonic()
        self._truncated = [t for t in self._truncated if t.until > now]
        m.FILES_OPEN.labels(self.cfg.name).set(len(self.readers))

    def _open(self, path: str, ident: Identity) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            log.warning(
                "cannot open file",
                extra={"source": self.cfg.name, "path": path, "error": e.strerror},
            )
            return
        st = os.fstat(fd)
        if identity_of(st) != ident:  # replaced between stat and open; next scan retries
            os.close(fd)
            return
        start = self._start(fd, st.st_size, ident, path)
        reader = FileReader(self.cfg, fd, path, ident, start.read_from)
        reader.refresh()
        reader.grow_fingerprint()
        if start.read_from and start.waits_for is None:
            # Where this file starts is itself a checkpoint (a copy continues another file's).
            # A copy still waiting for its original's cut gets one only when it is released:
            # after a restart it must be matched against the original again.
            self.store.update(ident.key, start.checkpoint, reader.fingerprint, path)
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
                "path": path,
                "offset": start.read_from,
                "file": ident.key,
            },
        )

    def _start(self, fd: int, size: int, ident: Identity, path: str) -> _Start:
        entry = self.store.entries.get(ident.key)
        if entry is not None:
            if same_start(fd, size, entry.fingerprint) and size >= entry.offset:
                return _Start(entry.offset)
            # Same inode, other content (inode reuse) or cut below our offset: the entry
            # is not this file's; it may still be a copy of another one.
            kind = "truncate" if size < entry.offset else "inode_reuse"
            log.info(
                "checkpoint does not match file",
                extra={"source": self.cfg.name, "path": path, "reason": kind},
            )
            # Keep it, under another key, for the copy that copytruncate may have made.
            self.store.forget(ident.key)
            self.store.entries[f"{ident.key}~{entry.fingerprint.digest}"] = entry
        copied = self._copy_origin(fd, size)
        if copied is not None:
            log.info(
                "file is a copy of a tailed file; reading on from its offset",
                extra={"source": self.cfg.name, "path": path, "offset": copied.read_from},
            )
            return copied
        if self._first_scan and not self.store.existed and self.cfg.read_from == "tail":
            return _Start(size)
        return _Start(0)

    def _copy_origin(self, fd: int, size: int) -> _Start | None:
        """Where to read a copytruncate copy from: where its original was handed on to."""
        candidates: list[tuple[Fingerprint, int, str, FileReader | None]] = [
            (t.fingerprint, t.handed_offset, t.file_key, None) for t in self._truncated
        ]
        candidates += [(r.fingerprint, r.buf_offset, r.file_key, r) for r in self.readers.values()]
        for fp, handed, origin, whole in candidates:
            if fp.length >= MIN_MATCH_BYTES and same_start(fd, size, fp):
                acked = self.tracker.committed(origin)
                read_from = min(handed, size)
                checkpoint = read_from if acked is None else min(acked, size)
                return _Start(read_from, checkpoint, origin, whole)
        live = {r.identity.key for r in self.readers.values()}
        for key, entry in list(self.store.entries.items()):
            fp = entry.fingerprint
            if key not in live and fp.length >= MIN_MATCH_BYTES and same_start(fd, size, fp):
                self.store.forget(key)  # one copy continues one checkpoint
                return _Start(min(entry.offset, size))
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
                "path": reader.path,
                "offset": reader.read_pos,
                "size": reader.size,
            },
        )
        self._truncated.append(
            _Truncated(
                before,
                reader.buf_offset,
                reader.file_key,
                time.monotonic() + self.cfg.rotate_wait * 4 + 1.0,
            )
        )
        self._release_copies_of(reader)
        self.tracker.retire(reader.file_key)
        reader.restart_at_zero()
        reader.fingerprint = fingerprint_fd(reader.fd, reader.size)
        self._register(reader)

    def _release_copies_of(self, origin: FileReader) -> None:
        """The original was cut: its copies read on from where the original was handed on."""
        acked = self.tracker.committed(origin.file_key)
        for copy, (waits_for, _) in list(self._waiting.items()):
            if waits_for is origin:
                copy.buf_offset = copy.read_pos = min(origin.buf_offset, copy.size)
                checkpoint = copy.buf_offset if acked is None else min(acked, copy.buf_offset)
                self.store.update(copy.identity.key, checkpoint, copy.fingerprint, copy.path)
                del self._waiting[copy]
                self.wakeup.set()

    def _expire_waiting(self) -> None:
        """A copy whose original was never cut is a plain copy: its bytes were read there."""
        now = time.monotonic()
        for copy, (_, until) in list(self._waiting.items()):
            if until <= now:
                copy.buf_offset = copy.read_pos = copy.size
                del self._waiting[copy]
                log.info(
                    "copy of a file that was not truncated; not read twice",
                    extra={"source": self.cfg.name, "path": copy.path},
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
        self.store.update(key, offset, reader.fingerprint, reader.path)

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
                self.store.update(key, held, copy.fingerprint, copy.path)
            elif held is None and key in self.store.entries:
                entry = self.store.entries[key]
                if offset > entry.offset and offset <= copy.buf_offset:
                    self.store.update(key, offset, copy.fingerprint, copy.path)
        if done:
            del self._copies[origin]

    # -- reading -------------------------------------------------------------------------
    async def read_round(self) -> bool:
        """One fair turn over every file; whether any data was read."""
        got = False
        for reader in list(self.readers.values()):
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
                await self._hand_on(batch)
        for reader in self.readers.values():
            m.FILE_LAG_BYTES.labels(self.cfg.name, reader.path).set(reader.lag)
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
                m.FILE_LAG_BYTES.remove(self.cfg.name, reader.path)
            log.info("released rotated file", extra={"source": self.cfg.name, "path": reader.path})

    def live_keys(self) -> set[str]:
        return {ident.key for ident in self.readers}

    def close_all(self) -> None:
        for reader in self.readers.values():
            reader.close()
        m.FILES_OPEN.labels(self.cfg.name).set(0)
