"""Run one source: discover its files, open them, read them all fairly, close them.

The read loop and its cadence (a round per wake-up, a trickle gathered per
flush_interval, a flood read on at once), discovery on its own task, the handle budget
(max_open_files) and the drain at shutdown. Each file is identified by (device, inode)
plus the fingerprint of its first bytes (fingerprint.py); which file continues which
(rename, copytruncate, a restart's checkpoints) is settled in rotation.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import time
from collections.abc import Awaitable, Callable, Collection

from collector.acks import AckTracker
from collector.flow import InFlight, LineBatch
from collector.tail.admission import OPEN_FLAGS, Admission
from collector.tail.checkpoint import CheckpointStore
from collector.tail.config import TailConfig
from collector.tail.counters import UNCOUNTED, TailCounters
from collector.tail.discovery import discover, display_path, watch_dirs
from collector.tail.fingerprint import Identity, identity_of
from collector.tail.reader import FileReader
from collector.tail.rotation import Rotation, Start
from collector.tail.watcher import DirectoryWatcher

log = logging.getLogger("collector.tail")

Emit = Callable[[LineBatch], Awaitable[None]]

# Reads of one file per round before the next file gets its turn.
_READS_PER_TURN = 4
# With inotify, the poll for what events cannot show (NFS writes, a failed watch), and
# the cadence of timers (partial lines, rotated files, waiting copies).
_SAFETY_POLL = 1.0
# With inotify complete (local filesystems, every watch set) and no timer pending: the
# kernel reports every write and name, so the poll only double-checks.
_IDLE_POLL = 10.0


def _loop_time(monotonic: float) -> float:
    """A time.monotonic() instant on the running loop's clock."""
    return asyncio.get_running_loop().time() + (monotonic - time.monotonic())


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
        counters: TailCounters = UNCOUNTED,
    ) -> None:
        self.cfg = cfg
        self._m = counters
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
        self._waiting_files = 0  # found, not opened: over max_open_files
        self.wakeup = asyncio.Event()  # data may have arrived: read
        self.rescan = asyncio.Event()  # files may have appeared or moved: discover
        self._noticed = 0.0  # when an event first said data may be there (0: none since)
        self._round_noticed = 0.0  # the same, for the batches of the read round under way
        self._behind = False  # the last round left data unread (a flood): read on at once
        self._real_dirs: dict[str, str] = {}  # open file's path -> its real directory
        # which file continues which (copytruncate, rename); shares `readers`
        self.rotation = Rotation(cfg, store, tracker, self.readers, self.wakeup.set, counters)

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
        names, so with it the poll is a safety net once a second (NFS, a failed watch, a
        timer due), and once every `_IDLE_POLL` when events cover everything and nothing
        is due: an idle sidecar should sleep (issue 14)."""
        poll = float(self.cfg.poll_interval)
        if not watcher.active:
            return poll
        if watcher.complete and not self._timers_due() and not self._over_handles():
            return max(poll, _IDLE_POLL)
        return max(poll, _SAFETY_POLL)

    def _over_handles(self) -> bool:
        """More files than max_open_files: files wait for a handle, and a released file
        that grows shows no event of its own to the read loop; discovery finds both."""
        return bool(self._waiting_files or self._released)

    def _timers_due(self) -> bool:
        """A partial line's timeout, a rotated file to reap, a copy waiting for its
        original: work that comes with time, not with an event."""
        return bool(self.rotation.waiting) or any(r.buf or r.rotated for r in self.readers.values())

    def _read_every(self, watcher: DirectoryWatcher) -> float | None:
        """How long the read loop sleeps without an event. With inotify, only as long as
        a timer is due (a partial line's timeout, a rotated file to reap, a waiting copy):
        discovery's safety poll wakes it for growth no event showed."""
        if not watcher.active:
            return float(self.cfg.poll_interval)
        return _SAFETY_POLL if self._timers_due() else None

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
            if not self._catching_up():
                self._round_noticed, self._noticed = self._noticed, 0.0
            got_data = await self.read_round()
            await self.flush_idle(force=False)
            self.reap()
            if got_data and self._behind:
                continue  # a flood: the next round at once, in large batches
            await self._sleep(stopping, self.wakeup, self._read_every(watcher))
            if self.gather and self._noticed and not stopping.is_set():
                await self._gather(stopping, watcher)

    def _catching_up(self) -> bool:
        """Whether this round reads on through a gathered burst: its batches keep the
        burst's noticed time, so that none of it waits a second flush_interval in a newer
        chunk. Not past twice the window: a flood then fills chunks as it always did."""
        return bool(
            self._behind
            and self._round_noticed
            and time.monotonic() - self._round_noticed < 2 * self.gather
        )

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
            self.rotation.check_truncation(reader)
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
        self.rotation.settle_waiting()  # first: a file released here may be a new file's original
        self._open_candidates(candidates)
        self._first_scan = False
        now = time.monotonic()
        self.rotation.forget_old_cuts(now)
        self._refused = {k: v for k, v in self._refused.items() if k in present}
        self._warned &= present
        self._released = {i: r for i, r in self._released.items() if i in seen}
        self._m.files_open.labels(self.cfg.name).set(len(self.readers))

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
                self._m.rotations.labels(self.cfg.name, kind).inc()
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
                    not self.store.has(c[1].key),
                )
            )
            if not self._full_warned:
                log.warning(
                    "max_open_files reached; files wait for idle handles to be released",
                    extra={"source": self.cfg.name, "max_open_files": self.cfg.max_open_files},
                )
                self._full_warned = True
        else:
            candidates.sort(key=lambda c: not self.store.has(c[1].key))
        tried = opened = 0
        for path, ident in candidates:
            if opened >= room:
                break
            tried += 1
            opened += self._open(path, ident)
        self._waiting_files = len(candidates) - tried
        self._m.files_waiting.labels(self.cfg.name).set(self._waiting_files)

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
                self._m.file_lag_bytes.remove(self.cfg.name, reader.name)
        return min(wanted, len(idle))

    def _idle(self, reader: FileReader) -> bool:
        """At EOF, nothing buffered, every batch acked, in no copy bookkeeping: closing
        it loses nothing, and its checkpoint says where to go on when it grows."""
        return (
            not reader.rotated
            and reader.eof_since is not None
            and reader.lag == 0
            and not reader.buf
            and self.tracker.pending(reader.file_key) == 0
            and self.rotation.settled(reader)
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
            self.rotation.save(reader, start.checkpoint)
        self.readers[ident] = reader
        self.wakeup.set()  # the read loop may be asleep; this file may hold data already
        self.rotation.register(reader, start.checkpoint)
        self.rotation.link(reader, start)
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

    def _start(self, fd: int, size: int, ident: Identity, path: str) -> Start:
        """Where a newly opened file is read from: where rotation.py says (its checkpoint,
        the file it continues), else its end if it was there at a `read_from: tail`
        start, else its head."""
        start = self.rotation.start(fd, size, ident, path)
        if start is not None:
            return start
        if ident in self._initial:
            self._initial.discard(ident)
            return Start(size)
        return Start(0)

    # -- reading -------------------------------------------------------------------------
    async def read_round(self) -> bool:
        """One fair turn over every file; whether any data was read."""
        got = self._behind = False
        for reader in list(self.readers.values()):
            if reader.fd >= 0 and reader not in self.rotation.waiting:
                # copytruncate may have cut and refilled the file since the last round:
                # never read new content from the old offset.
                self.rotation.check_truncation(reader)
            for _ in range(_READS_PER_TURN):
                if self.inflight.full:
                    self._m.tail_paused.set(1)
                    await self.inflight.wait_room()
                    self._m.tail_paused.set(0)
                if reader.fd < 0 or reader in self.rotation.waiting:
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
            self._m.file_lag_bytes.labels(self.cfg.name, reader.name).set(reader.lag)
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
                self._m.file_lag_bytes.remove(self.cfg.name, reader.name)
            log.info("released rotated file", extra={"source": self.cfg.name, "path": reader.name})

    def live_keys(self) -> set[str]:
        """Files present now, open or released idle: their checkpoints must not expire."""
        return {ident.key for ident in self.readers} | {ident.key for ident in self._released}

    def close_all(self) -> None:
        for reader in self.readers.values():
            reader.close()
        self._m.files_open.labels(self.cfg.name).set(0)
        self._m.files_waiting.labels(self.cfg.name).set(0)


def _last_data(reader: FileReader) -> float:
    return reader.last_data
