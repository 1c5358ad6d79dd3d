"""Forward protocol bytes: entries `[EventTime, record]` and the PackedForward message.

This is on the hot path: everything here works on a whole batch or chunk. One msgspec
encode turns a batch into entries (the array header it adds is cut off, so the result is
the concatenation the PackedForward `bin` wants), and a chunk becomes one message with one
more encode, so Python pays per batch, not per record.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import msgspec

from collector.flow import Chunk

EVENT_TIME_EXT = 0
GZIP_WBITS = 31  # zlib's "gzip container" mode, what CompressedPackedForward wants
_NS = 1_000_000_000
_TIME = struct.Struct(">II")

_encoder = msgspec.msgpack.Encoder()


def event_time(ns: int) -> msgspec.msgpack.Ext:
    """EventTime (ext type 0, 8 bytes: big-endian seconds and nanoseconds), so the
    receiver keeps the nanoseconds an integer time would drop."""
    sec, nsec = divmod(ns, _NS)
    return msgspec.msgpack.Ext(EVENT_TIME_EXT, _TIME.pack(sec, nsec))


def _array_header_len(n: int) -> int:
    if n < 16:
        return 1  # fixarray
    if n < 0x10000:
        return 3  # array16
    return 5  # array32


def encode_entries(
    records: list[dict[str, Any]], times: list[int] | None, default_ns: int
) -> bytes:
    """Concatenated msgpack entries `[EventTime, record]`, one per record.

    `times[i] == 0` (or `times is None`) means "no time in the record": `default_ns` is used.
    Equal consecutive times share one Ext object, so a batch read at once costs one.
    """
    if times is None:
        stamp = event_time(default_ns)
        pairs: list[tuple[msgspec.msgpack.Ext, dict[str, Any]]] = [(stamp, r) for r in records]
    else:
        # Inlined event_time: this loop runs once per record.
        ext, pack = msgspec.msgpack.Ext, _TIME.pack
        pairs = []
        append = pairs.append
        last_ns = -1
        for record, ns in zip(records, times, strict=True):
            if ns != last_ns:
                last_ns = ns
                stamp = ext(EVENT_TIME_EXT, pack(*divmod(ns or default_ns, _NS)))
            append((stamp, record))
    data = _encoder.encode(pairs)
    return data[_array_header_len(len(pairs)) :]


def chunk_key(chunk_id: bytes) -> str:
    """The chunk option and the ack value: base64 of the 128-bit chunk id."""
    return base64.b64encode(chunk_id).decode("ascii")


def encode_message(
    chunk: Chunk, compress: str, require_ack: bool, compress_level: int = 1
) -> bytes:
    """`[tag, bin entries, {size, chunk?, compressed?}]` for one chunk.

    With `require_ack` the chunk must already carry its id: a resend has to present the same
    id, so the caller assigns it once and this function only reads it.
    """
    options: dict[str, Any] = {"size": chunk.count}
    if require_ack:
        if len(chunk.chunk_id) != 16:
            raise ValueError("require_ack needs a 16-byte chunk_id on the chunk")
        options["chunk"] = chunk_key(chunk.chunk_id)
    entries = chunk.entries
    if compress == "gzip":
        entries = zlib.compress(entries, compress_level, GZIP_WBITS)
        options["compressed"] = "gzip"
    elif compress != "none":
        raise ValueError(f"compress: unknown mode {compress!r}")
    return _encoder.encode((chunk.tag, entries, options))
