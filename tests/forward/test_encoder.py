"""Encoder bytes against the Forward spec's layouts."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.flow import Chunk
from collector.forward.encoder import chunk_key, encode_entries, encode_message, event_time

NS = 1_700_000_000_123_456_789
SEC, NSEC = 1_700_000_000, 123_456_789


def fixext8_time(sec: int, nsec: int) -> bytes:
    return b"\xd7\x00" + struct.pack(">II", sec, nsec)


def _unpacker(data: bytes, ext_hook: Any) -> Any:
    """Split concatenated entries the way a receiver does (ext 0 kept as (code, bytes))."""
    u = msgpack.Unpacker(raw=False, ext_hook=ext_hook, strict_map_key=False)
    u.feed(data)
    return u


def test_event_time_is_fixext8_type_0_big_endian_seconds_and_nanoseconds() -> None:
    ext = event_time(NS)
    assert ext.code == 0
    assert ext.data == struct.pack(">II", SEC, NSEC)


def test_one_entry_byte_exact() -> None:
    data = encode_entries([{"a": 1}], None, NS)
    # fixarray(2) | fixext8 D7 00 sec nsec | fixmap(1) fixstr "a" positive fixint 1
    assert data == b"\x92" + fixext8_time(SEC, NSEC) + b"\x81\xa1a\x01"


def test_times_per_record_and_zero_means_default() -> None:
    data = encode_entries([{"i": 0}, {"i": 1}, {"i": 2}], [NS + 1, 0, NS + 1], NS)
    assert data == (
        b"\x92" + fixext8_time(SEC, NSEC + 1) + b"\x81\xa1i\x00"
        + b"\x92" + fixext8_time(SEC, NSEC) + b"\x81\xa1i\x01"
        + b"\x92" + fixext8_time(SEC, NSEC + 1) + b"\x81\xa1i\x02"
    )  # fmt: skip


@pytest.mark.parametrize("n", [0, 1, 15, 16, 65535, 65536])
def test_array_header_is_stripped_at_every_size(n: int) -> None:
    records = [{"n": i} for i in range(n)]
    entries = list(_unpacker(encode_entries(records, None, NS), lambda c, d: (c, d)))
    assert len(entries) == n
    assert all(e == [(0, struct.pack(">II", SEC, NSEC)), {"n": i}] for i, e in enumerate(entries))


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=5), max_size=20),
    data=st.data(),
)
def test_entries_round_trip(records: list[dict[str, Any]], data: st.DataObject) -> None:
    times = data.draw(
        st.lists(st.integers(0, 2**32 * 10**9 - 1), min_size=len(records), max_size=len(records))
    )
    got = list(_unpacker(encode_entries(records, times, NS), lambda c, d: (c, d)))
    want = [
        [(0, struct.pack(">II", *divmod(t or NS, 10**9))), r]
        for t, r in zip(times, records, strict=True)
    ]
    assert got == want


CHUNK_ID = bytes(range(16))


def chunk(entries: bytes, count: int = 1) -> Chunk:
    return Chunk(tag="app", entries=entries, count=count, tickets=[], chunk_id=CHUNK_ID)


def test_packed_forward_message_byte_exact() -> None:
    entries = encode_entries([{"a": 1}], None, NS)
    key = base64.b64encode(CHUNK_ID)  # 24 ascii bytes
    msg = encode_message(chunk(entries), "none", require_ack=True)
    assert msg == (
        b"\x93"  # fixarray 3
        + b"\xa3app"  # tag as fixstr
        + b"\xc4" + bytes([len(entries)]) + entries  # bin8, not str
        + b"\x82"  # options: fixmap 2
        + b"\xa4size\x01"
        + b"\xa5chunk" + b"\xb8" + key  # fixstr 24
    )  # fmt: skip
    assert chunk_key(CHUNK_ID) == key.decode()


def test_without_ack_there_is_no_chunk_option() -> None:
    entries = encode_entries([{"a": 1}], None, NS)
    msg = encode_message(chunk(entries), "none", require_ack=False)
    assert msg.endswith(b"\x81\xa4size\x01")


@pytest.mark.parametrize(("size", "header"), [(255, b"\xc4"), (256, b"\xc5"), (70000, b"\xc6")])
def test_entries_are_bin_of_the_right_width(size: int, header: bytes) -> None:
    msg = encode_message(chunk(b"\x00" * size), "none", require_ack=False)
    assert msg[5:6] == header


def test_gzip_mode_marks_compressed_and_round_trips() -> None:
    records = [{"msg": "payment authorised", "i": i} for i in range(200)]
    entries = encode_entries(records, None, NS)
    msg = encode_message(chunk(entries, 200), "gzip", require_ack=True)
    tag, payload, options = msgpack.unpackb(msg, raw=False)
    assert tag == "app"
    assert payload[:2] == b"\x1f\x8b", "a gzip member, not a zlib stream"
    assert zlib.decompress(payload, 31) == entries
    assert options == {"size": 200, "chunk": chunk_key(CHUNK_ID), "compressed": "gzip"}


def test_require_ack_needs_a_chunk_id() -> None:
    with pytest.raises(ValueError, match="chunk_id"):
        encode_message(Chunk(tag="t", entries=b"", count=0, tickets=[]), "none", True)


@settings(max_examples=100, deadline=None)
@given(
    records=st.lists(st.dictionaries(st.text(max_size=10), scalars, max_size=6), max_size=20),
    data=st.data(),
)
def test_entries_match_fluent_logger_as_the_reference(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """fluent-logger (the Fluent project's Python client) packs `[EventTime, record]` the
    same way, byte for byte; its job here is to be the independent oracle."""
    from fluent.sender import EventTime

    times = data.draw(
        st.lists(st.integers(1, 2**32 * 10**9 - 1), min_size=len(records), max_size=len(records))
    )
    reference = b"".join(
        msgpack.packb([EventTime.from_unix_nano(t), r]) for t, r in zip(times, records, strict=True)
    )
    assert encode_entries(records, times, NS) == reference
