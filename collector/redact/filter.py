"""`collector redact`: a stdin-to-stdout filter through the same engine as the pipeline.

JSON object lines are decoded, walked and written back with their key order and their big
integers exact (msgspec keeps ints of any size); every other line is redacted as text.
Lines go through the pre-scan in blocks, exactly as the pipeline sends them, so the
filter shows what the collector would ship.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import msgspec

from collector.redact.redactor import Redactor

BLOCK_LINES = 1024

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


def redact_stream(redactor: Redactor, infile: BinaryIO, outfile: BinaryIO) -> int:
    """Redact `infile` line by line into `outfile`; returns the number of lines."""
    total = 0
    block: list[bytes] = []
    for raw in infile:
        block.append(raw)
        if len(block) >= BLOCK_LINES:
            total += _flush(redactor, block, outfile)
            block = []
    if block:
        total += _flush(redactor, block, outfile)
    outfile.flush()
    return total


def _flush(redactor: Redactor, block: list[bytes], outfile: BinaryIO) -> int:
    ends = [_line_end(raw) for raw in block]
    lines = [raw[: len(raw) - len(end)] for raw, end in zip(block, ends, strict=True)]
    flagged = set(redactor.scan(lines))
    out: list[bytes] = []
    for i, line in enumerate(lines):
        if i in flagged:
            line = redact_line(redactor, line)
        out.append(line + ends[i])
    outfile.write(b"".join(out))
    return len(lines)


def redact_line(redactor: Redactor, line: bytes) -> bytes:
    """One raw line, redacted: as a JSON object when it is one, else as text."""
    stripped = line.strip()
    if stripped.startswith(b"{"):
        try:
            record: Any = _decoder.decode(stripped)
        except msgspec.DecodeError:
            record = None
        if isinstance(record, dict):
            return _encoder.encode(redactor.redact_record(record))
    text = line.decode("utf-8", errors="replace")
    return redactor.redact_text(text).encode("utf-8")


def _line_end(raw: bytes) -> bytes:
    if raw.endswith(b"\r\n"):
        return b"\r\n"
    if raw.endswith(b"\n"):
        return b"\n"
    return b""
