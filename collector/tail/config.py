"""Config of tailing: which files a source reads, and how it reads them into lines."""

from __future__ import annotations

from typing import Literal

import msgspec

from collector.units import ByteSize, Seconds


class MultilineConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Join continuation lines into one record (a Java stack trace is one event).

    `mode: java` joins the exception line (a qualified `...Exception:`/`...Error` class name)
    and lines that start with whitespace, `at `, `Caused by:`, `...`, `Suppressed:`;
    `mode: start_pattern` starts a record at lines matching `start_pattern`
    and joins everything else to the previous one.
    """

    # Default `off` (`java` for `format: spring`). `off`: every line is a record (quote it:
    # `mode: "off"`, YAML reads a bare `off` as false); `java`: the exception line
    # (`com.acme.FooException: ...`) and lines starting with whitespace, `at `, `Caused by:`,
    # `Suppressed:`, `...` join the previous line; `start_pattern`: a record starts at lines
    # matching `start_pattern`.
    mode: Literal["off", "java", "start_pattern"] = "off"
    # Regex, for `start_pattern` mode
    start_pattern: str | None = None
    # The last record is held this long for continuation lines
    flush_timeout: Seconds = Seconds(1.0)
    # A joined record longer than this is truncated and flagged like an over-long line.
    max_bytes: ByteSize = ByteSize(256 * 1024)

    def __post_init__(self) -> None:
        if self.mode == "start_pattern" and not self.start_pattern:
            raise ValueError("start_pattern: required when mode is start_pattern")


class TailConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What tail/ reads of a `sources:` entry: which files, and how they become lines."""

    # Unique; the `source` label of metrics and `${source}` in tags
    name: str
    # Globs (`**` allowed); a symlinked "current" file is followed when it leads under the globs'
    # own directories (see the README's Guarantees); only regular files are read
    paths: list[str]
    # Globs matched against the full path or the base name
    exclude: list[str] = []
    # Files are read only where they lie under the globs' own directories; a symlink (or
    # a linked directory) that leads elsewhere is refused unless it leads under one of these.
    follow_symlinks_into: list[str] = []
    # Where files found at the **first** start begin (`head` or `tail`); files created later always
    # from the head; after a restart, the checkpoint
    read_from: Literal["head", "tail"] = "head"
    # Longer lines are truncated, flagged `_truncated: true`, counted; tailing goes on
    max_line_bytes: ByteSize = ByteSize(64 * 1024)
    # Bytes per read
    read_chunk_bytes: ByteSize = ByteSize(64 * 1024)
    # A line without its newline is shipped, flagged `_partial: true`, after this much quiet (and at
    # shutdown)
    partial_line_timeout: Seconds = Seconds(5.0)
    # How often globs and files are checked where inotify is not available; with inotify, writes
    # and new names wake the tailer at once and a safety poll runs once a second (every 10 s
    # when idle on a local filesystem; NFS and failed watches keep 1 s)
    poll_interval: Seconds = Seconds(0.25)
    # A file rotated away (renamed, deleted, out of the globs) is released this long after it was
    # read to EOF
    rotate_wait: Seconds = Seconds(5.0)
    # Bound on open handles; beyond it, handles of files read to EOF (and acked) are released, least
    # recently active first, for the files waiting (`collector_files_waiting`)
    max_open_files: int = 256
    multiline: MultilineConfig = msgspec.field(default_factory=MultilineConfig)

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError("paths: at least one glob is required")
        if self.max_line_bytes < 64:
            raise ValueError("max_line_bytes: must be at least 64")
        if self.max_open_files < 1:
            raise ValueError("max_open_files: must be at least 1")
        for d in self.follow_symlinks_into:
            if not d.startswith("/") or d.rstrip("/") == "":
                raise ValueError(
                    "follow_symlinks_into: each entry must be an absolute directory other than /"
                )
