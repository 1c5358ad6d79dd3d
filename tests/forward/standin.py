"""A scriptable Forward receiver for tests: packs its handshake the way Fluentd or Fluent Bit
does, and misbehaves on cue.

The real receivers (FluentServer, Fluent Bit) cannot be told to send a wrong digest or
garbage at a chosen point of the exchange, and Fluentd is not on these machines; this
stand-in can. It speaks the protocol from the spec, not from the client's code: it checks
the PING digest itself, decodes PackedForward (gzip too) and acks by chunk id.

Packing, as each receiver writes its HELO (docs/forward.md, "Fluentd and Fluent Bit"):
- `fluentd`: nonce and auth salt are random bytes packed as msgpack `bin`, plus a
  `keepalive` flag (False when `deny_keepalive`: it answers one message, then closes);
- `fluent-bit`: the same random bytes packed as msgpack `str`, no `keepalive`.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import ssl
from dataclasses import dataclass, field
from typing import Any, Literal

import msgpack  # type: ignore[import-untyped]

from tests.forward.listener import Listener

Packing = Literal["fluentd", "fluent-bit"]
Point = Literal["helo", "pong", "ack"]

# 0xc1 is never used in msgpack and never valid as the first byte of UTF-8.
GARBAGE = b"\xc1" * 32
NON_UTF8 = b"\xc1\xff\xfe payload \x80"


# Every fault a test can inject: (point, kind) -> the reason label the client counts it
# under in collector_forward_chunk_failures_total.
FAULTS: dict[tuple[str, str], str] = {
    ("helo", "garbage"): "protocol",
    ("helo", "unexpected"): "protocol",
    ("helo", "non-utf8"): "protocol",
    ("helo", "deep"): "protocol",
    ("helo", "flood"): "protocol",
    ("helo", "close"): "auth",
    ("pong", "garbage"): "protocol",
    ("pong", "unexpected"): "protocol",
    ("pong", "wrong-digest"): "auth",
    ("pong", "refused"): "auth",
    ("pong", "deep"): "protocol",
    ("pong", "close"): "auth",
    ("ack", "garbage"): "protocol",
    ("ack", "unexpected"): "protocol",
    ("ack", "non-utf8"): "protocol",
    ("ack", "deep"): "protocol",
    ("ack", "flood"): "protocol",
    ("ack", "close"): "closed",
}


@dataclass
class Fault:
    """What to send instead of the right message at `point`, on one connection.

    kinds: `garbage` (not msgpack), `unexpected` (a well-formed message of the wrong kind),
    `non-utf8` (the right message with non-UTF-8 bytes in a string field: the HELO marker,
    the PONG hostname with its digest right (must be accepted) or the ack's chunk id),
    `wrong-digest` (PONG only), `refused` (PONG only: auth_result false, a binary reason),
    `close` (close the connection instead of answering), `deep` (a message nested deeper
    than any decoder allows), `flood` (megabytes with no complete message), `tls-garbage`
    (with TLS on: bytes written under the TLS layer, so the client's TLS fails mid-stream).
    """

    point: Point
    kind: str


@dataclass
class Chunk:
    tag: str
    records: list[dict[str, Any]]
    chunk_id: str | None


@dataclass
class StandIn:
    shared_key: str | None = None
    packing: Packing = "fluentd"
    keepalive: bool = True
    hostname: bytes = b"aggregator"
    users: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)  # one per connection, in order
    received: list[Chunk] = field(default_factory=list)  # stored, before any ack
    acks_sent: list[str] = field(default_factory=list)
    connections: int = 0
    _listener: Listener | None = None

    async def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> StandIn:
        self._listener = Listener(self._accept)
        await self._listener.start(port, tls)
        return self

    @property
    def port(self) -> int:
        assert self._listener is not None
        return self._listener.port

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()

    def records(self) -> list[dict[str, Any]]:
        return [r for c in self.received for r in c.records]

    # --- one connection ---------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        fault = self.faults.pop(0) if self.faults else None
        try:
            await _Session(self, reader, writer, fault).run()
        except (OSError, asyncio.IncompleteReadError, _Closed):
            pass
        finally:
            writer.transport.abort()


class _Closed(Exception):
    """The session ends here (a `close` fault, or keepalive off after an answer)."""


class _Session:
    def __init__(
        self,
        server: StandIn,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        fault: Fault | None,
    ) -> None:
        self.s = server
        self.reader = reader
        self.writer = writer
        self.fault = fault
        self.unpacker = msgpack.Unpacker(raw=False)

    async def run(self) -> None:
        if self.s.shared_key is not None:
            await self._handshake()
        while True:
            message = await self._read()
            options = self._store(message)
            chunk_id = options.get("chunk")
            if chunk_id is not None:
                await self._answer("ack", {"ack": chunk_id}, chunk_id=chunk_id)
            if not self.s.keepalive:
                raise _Closed

    async def _read(self) -> Any:
        while True:
            for message in self.unpacker:
                return message
            data = await self.reader.read(65536)
            if not data:
                raise _Closed
            self.unpacker.feed(data)

    def _pack(self, message: Any) -> bytes:
        return bytes(msgpack.packb(message, use_bin_type=self.s.packing == "fluentd"))

    async def _send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def _answer(self, point: Point, right: Any, **context: Any) -> None:
        """Send `right`, or what the fault for this point says instead."""
        fault = self.fault
        if fault is None or fault.point != point:
            await self._send(self._pack(right))
            if point == "ack":
                self.s.acks_sent.append(context["chunk_id"])
            return
        self.fault = None
        kind = fault.kind
        if kind == "close":
            raise _Closed
        if kind == "garbage":
            await self._send(GARBAGE)
        elif kind == "deep":
            await self._send(b"\x91" * 100_000)
        elif kind == "flood":
            await self._send(b"\xdb\xff\xff\xff\xff" + b"x" * (3 * 1024 * 1024))
        elif kind == "tls-garbage":
            # Plain bytes under the TLS layer: the client's TLS record check fails.
            sock = self.writer.get_extra_info("socket")
            os.write(sock.fileno(), GARBAGE)
        elif kind == "unexpected":
            wrong = {"ack": "x"} if point != "ack" else ["PONG", True, "", "agg", ""]
            await self._send(self._pack(wrong))
        else:
            await self._send(self._pack(_variant(point, kind, right, **context)))
        if (point, kind) == ("pong", "non-utf8"):
            return  # a valid PONG after all: the session goes on
        # The client must close now: wait for that (its bytes are not ours to take).
        async with asyncio.timeout(60):
            while await self.reader.read(65536):
                pass
        raise _Closed

    # --- handshake --------------------------------------------------------------------

    async def _handshake(self) -> None:
        nonce = b"\xc1" + os.urandom(15)  # random bytes, never valid UTF-8
        auth = os.urandom(16)
        options: dict[str, Any] = {"nonce": nonce, "auth": auth}
        if self.s.packing == "fluentd":
            options["keepalive"] = self.s.keepalive
        await self._answer("helo", ["HELO", options])
        ping = await self._read()
        ok, reason, salt = self._check_ping(ping, nonce, auth)
        assert self.s.shared_key is not None
        digest = sha512_hex(salt, self.s.hostname, nonce, self.s.shared_key.encode())
        pong = ["PONG", ok, reason, self.s.hostname if ok else b"", digest if ok else ""]
        await self._answer("pong", pong, salt=salt, nonce=nonce, key=self.s.shared_key.encode())
        if not ok:
            raise _Closed

    def _check_ping(self, ping: Any, nonce: bytes, auth: bytes) -> tuple[bool, str, bytes]:
        _, hostname, salt, digest, username, pw_digest = ping
        assert self.s.shared_key is not None
        key = self.s.shared_key.encode()
        salt_b = salt.encode()
        if digest != sha512_hex(salt_b, hostname.encode(), nonce, key):
            return False, "shared_key mismatch", salt_b
        if self.s.users:
            password = self.s.users.get(username)
            want = sha512_hex(auth, username.encode(), (password or "").encode())
            if password is None or pw_digest != want:
                return False, "username/password mismatch", salt_b
        return True, "", salt_b

    # --- chunks -----------------------------------------------------------------------

    def _store(self, message: Any) -> dict[str, Any]:
        tag, entries, options = message
        options = options or {}
        if options.get("compressed") == "gzip":
            entries = gzip.decompress(entries)
        unpacker = msgpack.Unpacker(raw=False)
        unpacker.feed(entries)
        records = [record for _, record in unpacker]
        self.s.received.append(Chunk(tag, records, options.get("chunk")))
        return dict(options)


def _variant(point: Point, kind: str, right: Any, **context: Any) -> Any:
    """The right message with one field made wrong, as `kind` says."""
    if point == "helo" and kind == "non-utf8":
        return [NON_UTF8, right[1]]
    if point == "pong" and kind == "non-utf8":
        hostname = b"agg\xc1\xff"
        digest = sha512_hex(context["salt"], hostname, context["nonce"], context["key"])
        return ["PONG", True, "", hostname, digest]
    if point == "pong" and kind == "wrong-digest":
        return [*right[:4], "0" * 128]
    if point == "pong" and kind == "refused":
        return ["PONG", False, NON_UTF8, b"", ""]
    if point == "ack" and kind == "non-utf8":
        return {"ack": NON_UTF8}
    raise ValueError(f"no {kind!r} variant at {point!r}")


def sha512_hex(*parts: bytes) -> str:
    h = hashlib.sha512()
    for part in parts:
        h.update(part)
    return h.hexdigest()
