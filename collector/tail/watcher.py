"""Wake the tailer when a watched directory changes (inotify), instead of waiting a poll.

Polling stays the source of truth (and the fallback on kernels or filesystems without
inotify, such as NFS): an event only cuts the sleep short, so a missed or overflowed
event costs at most one poll interval, never data.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
from collections.abc import Callable

log = logging.getLogger("collector.tail")

_IN_MODIFY = 0x002
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_MASK = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC


class DirectoryWatcher:
    """Calls `on_change` whenever something happens in one of the watched directories."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change
        self.fd = -1
        self._watched: set[str] = set()
        self._libc: ctypes.CDLL | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Start watching; False (and polling only) where inotify is not available."""
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name, use_errno=True)
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        except (OSError, AttributeError):
            return False
        if fd < 0:
            return False
        self._libc, self.fd = libc, fd
        loop.add_reader(fd, self._drain)
        return True

    def watch(self, directories: set[str]) -> None:
        if self._libc is None:
            return
        for directory in directories - self._watched:
            wd = self._libc.inotify_add_watch(self.fd, os.fsencode(directory), _MASK)
            if wd >= 0:
                self._watched.add(directory)
            else:
                log.info(
                    "inotify watch failed; polling this directory",
                    extra={"dir": directory, "errno": ctypes.get_errno()},
                )

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while os.read(self.fd, 65536):
                pass
        self.on_change()

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.fd >= 0:
            loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1
