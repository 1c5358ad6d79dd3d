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

    mode: Literal["off", "java", "start_pattern"] = "off"
    start_pattern: str | None = None
    flush_timeout: Seconds = Seconds(1.0)
    # A joined record longer than this is truncated and flagged like an over-long line.
    max_bytes: ByteSize = ByteSize(256 * 1024)

    def __post_init__(self) -> None:
        if self.mode == "start_pattern" and not self.start_pattern:
            raise ValueError("start_pattern: required when mode is start_pattern")


class TailConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What tail/ reads of a `sources:` entry: which files, and how they become lines."""

    name: str
    paths: list[str]
    exclude: list[str] = []
    # Files are read only where they lie under the globs' own directories; a symlink (or
    # a linked directory) that leads elsewhere is refused unless it leads under one of these.
    follow_symlinks_into: list[str] = []
    read_from: Literal["head", "tail"] = "head"
    max_line_bytes: ByteSize = ByteSize(64 * 1024)
    read_chunk_bytes: ByteSize = ByteSize(64 * 1024)
    partial_line_timeout: Seconds = Seconds(5.0)
    poll_interval: Seconds = Seconds(0.25)
    rotate_wait: Seconds = Seconds(5.0)
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
