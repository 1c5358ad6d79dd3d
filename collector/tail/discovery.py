"""Which paths a source reads: its globs, minus its exclude globs."""

from __future__ import annotations

import fnmatch
import glob
import os


def discover(paths: list[str], exclude: list[str]) -> list[str]:
    """Existing paths matching any glob and no exclude glob, in a stable order.

    Symlinks are kept as named (a "current" link is followed by stat, and when it is
    repointed the old target is drained through its open handle). What may be read of
    these (regular files, under the source's directories) is admission.py's call.
    """
    found: set[str] = set()
    for pattern in paths:
        for path in glob.glob(pattern, recursive=True):
            if any(
                fnmatch.fnmatch(path, ex) or fnmatch.fnmatch(os.path.basename(path), ex)
                for ex in exclude
            ):
                continue
            found.add(path)
    return sorted(found)


def watch_dirs(paths: list[str]) -> set[str]:
    """The directories whose changes can bring new matches (for inotify)."""
    dirs = set()
    for pattern in paths:
        head = pattern
        while glob.has_magic(head):
            head = os.path.dirname(head)
        dirs.add(head if os.path.isdir(head) else os.path.dirname(head) or ".")
        parent = os.path.dirname(pattern)
        if not glob.has_magic(parent) and os.path.isdir(parent):
            dirs.add(parent)
    return {d for d in dirs if os.path.isdir(d)}


def display_path(path: str) -> str:
    """`path` as text that every log line, metric label and record can carry.

    A file name need not be UTF-8; Python keeps its odd bytes as lone surrogates, which
    no JSON or msgpack encoder accepts. They are shown as `\\xNN` escapes instead; the
    name itself is kept, as it is, for opening the file.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")
