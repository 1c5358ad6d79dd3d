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
    out = list(lines)
    objects: list[Any] = []
    where: list[int] = []
    for i in redactor.scan(lines):
        record = _json_object(lines[i])
        if record is None:
            out[i] = redactor.redact_text(lines[i].decode("utf-8", errors="replace")).encode()
        else:
            where.append(i)
            objects.append(record)
    redactor.redact_records(objects, list(range(len(objects))))
    for i, record in zip(where, objects, strict=True):
        out[i] = _encoder.encode(record)
    outfile.write(b"".join(line + end for line, end in zip(out, ends, strict=True)))
    return len(lines)


def _json_object(line: bytes) -> dict[str, Any] | None:
    stripped = line.strip()
    if not stripped.startswith(b"{"):
        return None
    try:
        record = _decoder.decode(stripped)
    except msgspec.DecodeError:
        return None
    return record if isinstance(record, dict) else None


def redact_line(redactor: Redactor, line: bytes) -> bytes:
    """One raw line, redacted: as a JSON object when it is one, else as text."""
    record = _json_object(line)
    if record is not None:
        return _encoder.encode(redactor.redact_record(record))
    return redactor.redact_text(line.decode("utf-8", errors="replace")).encode("utf-8")


def _line_end(raw: bytes) -> bytes:
    if raw.endswith(b"\r\n"):
        return b"\r\n"
    if raw.endswith(b"\n"):
        return b"\n"
    return b""
