"""Which files a source may read at all: regular files that lie under its own directories,
and never the collector's own secrets.

A glob hands back whatever a name matches: a directory (`dir/**`), a FIFO (opening one
blocks until a writer comes), a symlink to `/etc/shadow`, or a link to the key that makes
`hmac` tokens reversible. Shipping any of those is worse than shipping nothing, so each
new file is checked here once, after it was opened without blocking, by what the open
handle really is (its inode and its resolved path), not by the name that led to it.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Collection

from collector.tail.config import TailConfig
from collector.tail.fingerprint import Identity, identity_of

# Opening never blocks (a FIFO swapped in after the check) and never takes a terminal.
OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY


def base_dir(pattern: str) -> str:
    """The directory a glob cannot leave: its leading components without magic."""
    parts = pattern.split(os.sep)
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return os.sep.join(fixed) or (os.sep if pattern.startswith(os.sep) else ".")


class Admission:
    """Decides, per open file, whether the source may read it (`refusal` says why not)."""

    def __init__(self, cfg: TailConfig, secret_files: Collection[str] = ()) -> None:
        self._dirs = [base_dir(p) for p in cfg.paths] + list(cfg.follow_symlinks_into)
        self._secret_files = list(secret_files)

    def refusal(self, fd: int, st: os.stat_result, path: str) -> str | None:
        """Why the file open at `fd` (named `path`) must not be read, or None to read it."""
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if identity_of(st) in self._secret_identities():
            return "a secret file of the collector"
        real = _resolved(fd, path)
        if not any(_under(real, os.path.realpath(d)) for d in self._dirs):
            return "outside the source's directories (a symlink or a linked directory)"
        return None

    def _secret_identities(self) -> set[Identity]:
        """Taken at each check: a mounted Secret is replaced (new inode) when it rotates."""
        found = set()
        for path in self._secret_files:
            try:
                found.add(identity_of(os.stat(path)))
            except OSError:
                continue
        return found


def _resolved(fd: int, path: str) -> str:
    """The real path of what `fd` is open on (not of what `path` names by now)."""
    try:
        real = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)
    return real.removesuffix(" (deleted)")


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)
