"""Wake the tailer when a watched directory changes (inotify), instead of waiting a poll.

Polling stays the source of truth (and the fallback on kernels or filesystems without
inotify, such as NFS): an event only cuts the sleep short, so a missed or overflowed
event costs at most one poll interval, never data. Where every watched directory is on a
local filesystem (ext4, xfs, btrfs, tmpfs, overlayfs, zfs: what a pod's emptyDir or
hostPath is) and every watch was set, the kernel sees every write and every name, an
overflow is itself an event, and the tailer may poll rarely (`complete`); a directory on
NFS, CIFS, FUSE or anything unknown, or a watch that failed, keeps the fast poll.

Events say what changed: a write to a file (data to read) or a name that came, went or
moved (files to discover), so an append does not make the tailer glob its directories.
While the tailer gathers a trickle of lines it `pause`s the watcher: the kernel keeps the
events (merging repeats of the same one), and the process sleeps instead of waking for
every line an app writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import struct
from collections.abc import Callable

log = logging.getLogger("collector.tail")

_IN_MODIFY = 0x002
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_Q_OVERFLOW = 0x4000
_MASK = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
# Events after which the globs may match other files (an overflow may hide any of them).
_FILES = _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE | _IN_Q_OVERFLOW
# statfs(2) f_type of filesystems whose every change inotify reports.
_LOCAL_FILESYSTEMS = frozenset(
    {
        0xEF53,  # ext2/3/4
        0x58465342,  # xfs
        0x9123683E,  # btrfs
        0x01021994,  # tmpfs
        0x858458F6,  # ramfs
        0x794C7630,  # overlayfs
        0x2FC12FC1,  # zfs
        0xF2F52010,  # f2fs
    }
)
_STATFS_SIZE = 256  # more than struct statfs on any Linux ABI; f_type is its first word
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC


class DirectoryWatcher:
    """Calls `on_change(files)` when something happens in a watched directory; `files` is
    True when names came, went or moved, False when files were only written."""

    def __init__(self, on_change: Callable[[bool], None]) -> None:
        self.on_change = on_change
        self.fd = -1
        self._watched: set[str] = set()
        self._libc: ctypes.CDLL | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._paused = False
        self._partial: set[str] = set()  # not watched, or on a filesystem events miss

    def start(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Start watching; False (and polling only) where inotify is not available."""
        try:
            # The process's own symbols, libc's among them: ctypes.util.find_library would
            # run ldconfig in a child process and import tempfile and shutil (~1 MiB RSS).
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        except (OSError, AttributeError):
            return False
        if fd < 0:
            return False
        self._libc, self.fd, self._loop = libc, fd, loop
        loop.add_reader(fd, self._drain)
        return True

    @property
    def active(self) -> bool:
        """Whether inotify runs (events can be relied on for local writes)."""
        return self.fd >= 0

    @property
    def complete(self) -> bool:
        """Whether events show every change in every directory asked for so far."""
        return self.active and not self._partial

    def pause(self) -> None:
        """Stop waking the loop; events wait in the kernel until `resume`."""
        if self._loop is not None and self.fd >= 0 and not self._paused:
            self._loop.remove_reader(self.fd)
            self._paused = True

    def resume(self) -> None:
        if self._loop is not None and self.fd >= 0 and self._paused:
            self._loop.add_reader(self.fd, self._drain)
            self._paused = False

    def watch(self, directories: set[str]) -> None:
        if self._libc is None:
            return
        self._partial &= directories  # a directory no longer asked for no longer matters
        for directory in directories - self._watched:
            wd = self._libc.inotify_add_watch(self.fd, os.fsencode(directory), _MASK)
            if wd >= 0:
                self._watched.add(directory)
                if self._filesystem(directory) not in _LOCAL_FILESYSTEMS:
                    self._partial.add(directory)
                else:
                    self._partial.discard(directory)
            else:
                self._partial.add(directory)
                log.info(
                    "inotify watch failed; polling this directory",
                    extra={"dir": directory, "errno": ctypes.get_errno()},
                )

    def _filesystem(self, directory: str) -> int:
        """statfs(2)'s f_type of `directory`, 0 when it cannot be read."""
        assert self._libc is not None
        buf = ctypes.create_string_buffer(_STATFS_SIZE)
        if self._libc.statfs(os.fsencode(directory), buf) != 0:
            return 0
        return int(struct.unpack_from("l", buf.raw)[0]) & 0xFFFFFFFF

    def _drain(self) -> None:
        files = False
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while data := os.read(self.fd, 65536):
                files = files or _names_changed(data)
        self.on_change(files)

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.fd >= 0:
            if not self._paused:
                loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1


def _names_changed(data: bytes) -> bool:
    """Whether any event in `data` (a read of the inotify fd) is one of _FILES."""
    offset = 0
    while offset + _EVENT.size <= len(data):
        _, mask, _, length = _EVENT.unpack_from(data, offset)
        if mask & _FILES:
            return True
        offset += _EVENT.size + length
    return False
