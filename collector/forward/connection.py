"""One Forward connection: TCP (or TLS) to one address, the handshake, reading replies.

Everything that can go wrong while opening or reading a connection becomes a
`ConnectFailure` with a fixed `reason` (connect, tls, auth, protocol) for the metrics and a
message that names the server and never quotes the peer's bytes.

Replies are decoded with `raw=True`: every msgpack `str` and `bin` arrives as bytes. The
spec's nonce and salts are binary, Fluent Bit packs them as `str` holding random bytes,
and a peer's bytes must never be able to raise a decode error where we do not expect one.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import TYPE_CHECKING, Any

import msgpack  # type: ignore[import-untyped]
import msgspec

from collector.forward.config import TLSConfig
from collector.forward.handshake import (
    Credentials,
    HandshakeError,
    build_ping,
    check_pong,
    parse_helo,
)

if TYPE_CHECKING:
    import ssl

_READ_SIZE = 64 * 1024
# Replies are acks and handshake messages (a few hundred bytes); a peer that streams more
# without a complete message is not speaking Forward.
_MAX_REPLY_BUFFER = 1024 * 1024
_REPLY_READ_SIZE = 4096
_NOTHING = object()
_KEEPALIVE_PROBES = 3
_encoder = msgspec.msgpack.Encoder()


class ConnectFailure(Exception):
    """Opening or keeping a connection failed; `reason` is a metric label value."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _protocol_error(server: str, error: Exception) -> ConnectFailure:
    """Bytes that are not msgpack (or nest too deep, or overflow the buffer): name the
    error's type only, since its text may quote the peer's bytes."""
    return ConnectFailure("protocol", f"{server}: unreadable reply ({type(error).__name__})")


def make_ssl_context(cfg: TLSConfig) -> ssl.SSLContext | None:
    """One context for every connection; None when TLS is off (and then `ssl` is never
    imported: a collector without TLS runs without OpenSSL, collector/openssl.py)."""
    if not cfg.enabled:
        return None
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cfg.ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not cfg.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cfg.cert_file is not None:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
    return ctx


def tls_errors() -> tuple[type[OSError], ...]:
    """What `except` must take for a TLS error: `ssl.SSLError` once TLS is in use, nothing
    when `ssl` was never imported (no connection can raise it then)."""
    ssl_module = sys.modules.get("ssl")
    return (ssl_module.SSLError,) if ssl_module is not None else ()


def _set_keepalive(sock: socket.socket | None, interval: float) -> None:
    """TCP keepalive finds a peer that vanished without a FIN (a dead node, a cut link)
    even while we have nothing to send: FluentServer closes on a msgpack-nil heartbeat,
    so the transport's own probes are the heartbeat that every receiver tolerates. A peer
    that stops acking while we send is caught by ack_timeout instead."""
    if sock is None:
        return
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    secs = max(1, round(interval))
    for name, value in (
        ("TCP_KEEPIDLE", secs),
        ("TCP_KEEPINTVL", secs),
        ("TCP_KEEPCNT", _KEEPALIVE_PROBES),
    ):
        opt = getattr(socket, name, None)
        if opt is not None:
            sock.setsockopt(socket.IPPROTO_TCP, opt, value)


class Connection:
    """An open, authenticated connection. Writes never block (the number of chunks in
    flight bounds what can be buffered); replies are read by whoever owns the connection."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: str = ""
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.server = server
        # The buffer starts at read_size and grows only for a reply that needs it: acks are
        # tens of bytes, and msgpack's default start (the max size) was 1 MiB per connection.
        self._unpacker = msgpack.Unpacker(
            raw=True, max_buffer_size=_MAX_REPLY_BUFFER, read_size=_REPLY_READ_SIZE
        )
        self.closing = False
        # From the server's HELO: False means it closes after answering one message.
        self.keepalive = True
        self.spent = False  # keepalive off and a chunk already written: take no more

    async def read_messages(self) -> list[Any]:
        """The next replies (strings as bytes); raises ConnectionError when the peer
        closed and ConnectFailure("protocol") when it sent something that is not msgpack."""
        await self._feed()
        messages = []
        while (message := self._next()) is not _NOTHING:
            messages.append(message)
        return messages

    async def read_one(self, timeout: float) -> Any:
        """One reply within `timeout` (handshake only: the exchange is strictly turn by turn)."""
        async with asyncio.timeout(timeout):
            while (message := self._next()) is _NOTHING:
                await self._feed()
            return message

    async def _feed(self) -> None:
        data = await self.reader.read(_READ_SIZE)
        if not data:
            raise ConnectionError("closed by the peer")
        try:
            self._unpacker.feed(data)
        except msgpack.BufferFull as e:
            raise _protocol_error(self.server, e) from None

    def _next(self) -> Any:
        """The next complete message, or `_NOTHING` until more bytes arrive."""
        try:
            return self._unpacker.unpack()
        except msgpack.OutOfData:
            return _NOTHING
        except (ValueError, TypeError, msgpack.UnpackException) as e:
            raise _protocol_error(self.server, e) from None

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def unbuffered(self) -> None:
        """Make `flushed` wait for an empty write buffer (require_ack: false counts a chunk
        as delivered once the kernel has it, not while it sits in our buffer)."""
        self.writer.transport.set_write_buffer_limits(high=0)

    async def flushed(self) -> None:
        await self.writer.drain()
        if self.writer.transport.is_closing():
            raise ConnectionError("closed before the data was written")

    def abort(self) -> None:
        self.closing = True
        self.writer.transport.abort()


async def open_connection(
    server: str,
    address: str,
    port: int,
    *,
    timeout: float,
    ssl_ctx: ssl.SSLContext | None,
    tls_name: str | None,
    creds: Credentials | None,
    keepalive_interval: float,
) -> Connection:
    """Connect, set keepalive, run the handshake when `creds` is given."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                address,
                port,
                ssl=ssl_ctx,
                server_hostname=tls_name if ssl_ctx is not None else None,
                ssl_handshake_timeout=timeout if ssl_ctx is not None else None,
                limit=_READ_SIZE * 4,
            )
    except tls_errors() as e:
        detail = getattr(e, "verify_message", None) or getattr(e, "reason", None)
        detail = detail or type(e).__name__
        raise ConnectFailure("tls", f"{server}: TLS handshake failed: {detail}") from None
    except TimeoutError:
        raise ConnectFailure("connect", f"{server}: connect timed out after {timeout:g}s") from None
    except OSError as e:
        raise ConnectFailure("connect", f"{server}: connect failed: {e.strerror or e}") from None
    _set_keepalive(writer.get_extra_info("socket"), keepalive_interval)
    conn = Connection(reader, writer, server)
    if creds is None:
        return conn
    try:
        await _handshake(conn, creds, server, timeout)
    except BaseException:
        conn.abort()
        raise
    return conn


async def _handshake(conn: Connection, creds: Credentials, server: str, timeout: float) -> None:
    """HELO → PING → PONG; every way it can fail is a ConnectFailure that names the server."""
    try:
        helo = parse_helo(await conn.read_one(timeout), server)
        ping, salt = build_ping(helo, creds, server)
        conn.write(_encoder.encode(ping))
        check_pong(await conn.read_one(timeout), helo, creds, salt, server)
    except HandshakeError as e:
        raise ConnectFailure(e.reason, str(e)) from None
    except TimeoutError:
        raise ConnectFailure(
            "auth",
            f"{server}: no handshake reply within {timeout:g}s (does the server use a shared key?)",
        ) from None
    except tls_errors() as e:
        # TLS 1.3 reports a refused client certificate only after the handshake.
        reason = getattr(e, "reason", None) or e
        raise ConnectFailure("tls", f"{server}: TLS refused: {reason}") from None
    except (ConnectionError, OSError) as e:
        raise ConnectFailure(
            "auth", f"{server}: connection lost during the handshake: {e}"
        ) from None
    conn.keepalive = helo.keepalive
