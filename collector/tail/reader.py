"""Read one open file: chunks in, `LineBatch`es out, partial lines held back.

The reader owns the bytes between the last complete line handed on (`committed` here means
handed to the pipeline, not acked) and the read position. It never blocks on the event
loop for long: one `os.pread` of at most `read_chunk_bytes` from the page cache.
"""

from __future__ import annotations

import logging
import os
import time

from collector.flow import FLAG_PARTIAL, FLAG_TRUNCATED, LineBatch
from collector.tail.config import TailConfig
from collector.tail.discovery import display_path
from collector.tail.fingerprint import (
    FINGERPRINT_BYTES,
    Fingerprint,
    Identity,
    digest,
    digest_before,
    fingerprint_fd,
)
from collector.tail.lines import (
    cut,
    joiner_for,
    mask_leading_run,
    mask_trailing_run,
    split_records,
    truncate_long,
)

log = logging.getLogger("collector.tail")


class FileReader:
    """One file handle and its unconsumed bytes."""

    def __init__(
        self,
        source: TailConfig,
        fd: int,
        path: str,
        identity: Identity,
        offset: int,
        generation: int = 0,
    ) -> None:
        self.source = source
        self.fd = fd
        self.path = path  # as the OS spells it, for stat and open
        self.name = display_path(path)  # as logs, labels, records and checkpoints show it
        self.identity = identity
        self.generation = generation
        self.buf = b""
        self.buf_offset = offset  # file offset of buf[0]
        self.read_pos = offset  # file offset of the next read
        self.skipping = False  # inside an over-long line whose head was already shipped
        # The last bytes before buf_offset: after a cut, what a copy must hold there.
        self.tail = self._bytes_before(offset)
        # A partial line shipped ending in a digit run: the next line's leading run is its
        # rest, and is masked like the head was.
        self.run_continues = False
        self.masked_warned = False
        self.last_data = time.monotonic()
        self.eof_since: float | None = None
        self.rotated = False  # the path no longer leads to this file
        self.fingerprint = Fingerprint(0, "")
        self.size = 0
        self._joiner = joiner_for(source.multiline)
        self._limit = int(source.max_line_bytes)
        if self._joiner is not None:
            self._limit = max(self._limit, int(source.multiline.max_bytes))

    def moved(self, path: str) -> None:
        """The file is now found under `path` (renamed within the globs)."""
        if path != self.path:
            self.path = path
            self.name = display_path(path)

    @property
    def file_key(self) -> str:
        return f"{self.identity.key}#{self.generation}"

    def refresh(self) -> os.stat_result:
        st = os.fstat(self.fd)
        self.size = st.st_size
        return st

    def grow_fingerprint(self) -> None:
        """Extend a short fingerprint once the file has more bytes; call only after the
        existing fingerprint was checked, or a rewrite would be taken for growth."""
        if not self.fingerprint.complete() and self.size > self.fingerprint.length:
            self.fingerprint = fingerprint_fd(self.fd, self.size)

    def restart_at_zero(self) -> None:
        """After copytruncate: the file was cut below our position; read it anew."""
        self.generation += 1
        self.buf = b""
        self.buf_offset = self.read_pos = 0
        self.skipping = False
        self.run_continues = False
        self.tail = b""
        self.fingerprint = Fingerprint(0, "")

    def tail_digest(self) -> str:
        """Digest of the bytes just before buf_offset, kept from reading (the file may be
        cut by the time it is asked for)."""
        return (
            digest(self.tail) if len(self.tail) == min(self.buf_offset, FINGERPRINT_BYTES) else ""
        )

    def digest_before(self, offset: int) -> str:
        """Digest of the bytes before `offset` in the file, for its checkpoint ("" when
        the file cannot say)."""
        if self.fd < 0:
            return ""
        try:
            return digest_before(self.fd, offset)
        except OSError:
            return ""

    def jump(self, offset: int) -> None:
        """Go on from `offset` (a copy reads on from where its original was handed on)."""
        self.buf = b""
        self.buf_offset = self.read_pos = offset
        self.tail = self._bytes_before(offset)

    def _bytes_before(self, offset: int) -> bytes:
        n = min(offset, FINGERPRINT_BYTES)
        try:
            return os.pread(self.fd, n, offset - n) if n else b""
        except OSError:
            return b""

    def _remember(self, consumed: bytes) -> None:
        """Keep the last FINGERPRINT_BYTES of what buf_offset moves over."""
        if len(consumed) >= FINGERPRINT_BYTES:
            self.tail = consumed[-FINGERPRINT_BYTES:]
        else:
            self.tail = (self.tail + consumed)[-FINGERPRINT_BYTES:]

    @property
    def lag(self) -> int:
        return max(0, self.size - self.read_pos)

    def read(self, now_ns: int) -> LineBatch | None:
        """Read one chunk; the complete lines in it, or None at EOF with nothing new."""
        data = os.pread(self.fd, int(self.source.read_chunk_bytes), self.read_pos)
        if not data:
            if self.eof_since is None:
                self.eof_since = time.monotonic()
            return None
        self.eof_since = None
        self.last_data = time.monotonic()
        self.read_pos += len(data)
        self.buf = self.buf + data if self.buf else data
        return self._cut(now_ns, hold_last=True)

    def flush_idle(self, now_ns: int, force: bool = False) -> LineBatch | None:
        """Ship what waits for more data: a held multiline record, then a partial line.

        Called when the file has been idle for the configured timeouts, or at shutdown
        (`force`). A partial line goes out with FLAG_PARTIAL; its rest, if it ever comes,
        is a line of its own. A digit run across that seam is masked on both sides: the
        redactor sees neither half as a card number.
        """
        if not self.buf:
            return None
        idle = time.monotonic() - self.last_data
        if self._joiner is not None and (force or idle >= self.source.multiline.flush_timeout):
            batch = self._cut(now_ns, hold_last=False)
            if batch is not None:
                return batch
        if self.buf and (force or idle >= self.source.partial_line_timeout):
            flags = [FLAG_PARTIAL]
            if len(self.buf) > self._limit:
                line, masked = cut(self.buf, self._limit)
                flags = [FLAG_PARTIAL | FLAG_TRUNCATED]
            else:
                # What follows the partial line is unknown: a run it ends in may go on.
                line, masked = mask_trailing_run(self.buf)
                self.run_continues = masked
            self._masked(masked)
            return self._batch([line], flags, len(self.buf), now_ns)
        return None

    def _masked(self, count: int) -> None:
        """Digits were masked at a cut; said once per file (the lines carry their flags)."""
        if count and not self.masked_warned:
            self.masked_warned = True
            log.warning(
                "line cut inside a digit run; the run's digits were masked",
                extra={"source": self.source.name, "path": self.name},
            )

    def _cut(self, now_ns: int, hold_last: bool) -> LineBatch | None:
        buf = self.buf
        if self.skipping:
            nl = buf.find(b"\n")
            if nl < 0:
                return self._batch([], None, len(buf), now_ns)
            self.skipping = False
            # The tail of the over-long line is dropped; only its offset advances.
            self._remember(buf[max(0, nl + 1 - FINGERPRINT_BYTES) : nl + 1])
            self.buf_offset += nl + 1
            self.buf = buf = buf[nl + 1 :]
        end = buf.rfind(b"\n")
        # A record that never ends (every line looks like a continuation) is not held
        # forever: past the limit it is cut where it stands.
        hold_last = hold_last and len(buf) <= self._limit
        if end < 0:
            if len(buf) > self._limit:
                self.skipping = True
                head, masked = cut(buf, self._limit)
                self._masked(masked)
                return self._batch([head], [FLAG_TRUNCATED], len(buf), now_ns)
            return None
        lines, consumed = split_records(buf[:end], self._joiner, hold_last)
        if not lines and consumed == 0:
            return None
        if self.run_continues and lines:
            self.run_continues = False
            lines[0] = mask_leading_run(lines[0])
        truncated = truncate_long(lines, self._limit)
        flags = None
        if truncated:
            hits, masked_count = truncated
            self._masked(masked_count)
            flags = [0] * len(lines)
            for i in hits:
                flags[i] = FLAG_TRUNCATED
        return self._batch(lines, flags, consumed, now_ns)

    def _batch(
        self, lines: list[bytes], flags: list[int] | None, consumed: int, now_ns: int
    ) -> LineBatch:
        start = self.buf_offset
        self._remember(self.buf[max(0, consumed - FINGERPRINT_BYTES) : consumed])
        self.buf = self.buf[consumed:]
        self.buf_offset += consumed
        return LineBatch(
            source=self.source.name,
            file_key=self.file_key,
            path=self.name,
            lines=lines,
            start_offset=start,
            end_offset=self.buf_offset,
            read_time_ns=now_ns,
            flags=flags,
            nbytes=consumed,
        )

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
