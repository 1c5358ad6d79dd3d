"""The Forward client: every chunk handed to `send` is delivered and acked, or waits.

Failures become delays, never losses. The moving parts, each a task owned by `run`:

- a keeper per server address keeps one connection open (connect, TLS, handshake), reads
  the acks, and on any failure puts the chunks it had in flight back at the head of the
  queue and backs off;
- the dispatcher writes queued chunks to the next ready server (weights, then standbys);
- the watchdog closes a connection whose oldest chunk waited longer than `ack_timeout`
  (the chunks go to another server, or to the same one after a reconnect);
- the resolver turns each configured host into one keeper per address, every
  `resolve_interval`.

A chunk keeps its chunk id across resends, so a receiver that deduplicates can; the
checkpoint tracker only ever sees `on_ack` for chunks a receiver acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path

from collector.flow import Chunk
from collector.forward.config import ForwardConfig, ServerConfig
from collector.forward.connection import (
    ConnectFailure,
    Connection,
    make_ssl_context,
    open_connection,
    tls_errors,
)
from collector.forward.counters import ClientCounters
from collector.forward.encoder import chunk_key, encode_message
from collector.forward.handshake import HandshakeError, load_credentials
from collector.forward.servers import Endpoint, Pool, backoff_delay, is_ip_literal

log = logging.getLogger("collector.forward")

# gzip of a 1 MiB chunk takes ~10 ms: off the event loop from this size on.
_THREAD_COMPRESS_BYTES = 64 * 1024


def _ack_key(message: object) -> str | None:
    """The chunk id of `{"ack": id}` (read raw: keys and values are bytes), else None."""
    if not isinstance(message, dict):
        return None
    value = message.get(b"ack")
    if not isinstance(value, bytes):
        return None
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        return None


def _unexpected_reply(server: str, message: object) -> ConnectFailure:
    """What the server sent instead of an ack, by shape only (never its bytes)."""
    if isinstance(message, list) and message[:1] == [b"HELO"]:
        return ConnectFailure(
            "auth", f"{server}: the server wants a shared-key handshake; set forward.security"
        )
    kind = type(message).__name__
    return ConnectFailure("protocol", f"{server}: unexpected reply (a msgpack {kind}, not an ack)")


def _internal_error(server: str, doing: str, error: Exception) -> ConnectFailure:
    """A failure nobody foresaw, on one connection: logged with where it happened (not its
    text, which may quote the peer's bytes) and treated as that connection failing, so the
    process and the other connections carry on."""
    frame = traceback.extract_tb(error.__traceback__)[-1:]
    where = f"{Path(frame[0].filename).name}:{frame[0].lineno}" if frame else "?"
    log.error("%s: unexpected %s while %s (at %s)", server, type(error).__name__, doing, where)
    return ConnectFailure("internal", f"{server}: unexpected {type(error).__name__} while {doing}")


class ForwardSetupError(ValueError):
    """The client cannot start: a TLS file or a secret source is unusable (names the key)."""


class _Pending:
    """A chunk between `send` and its ack: queued (endpoint None) or in flight."""

    __slots__ = ("chunk", "deadline", "done", "endpoint", "key", "payload", "tries")

    def __init__(self, chunk: Chunk, payload: bytes, key: str) -> None:
        self.chunk = chunk
        self.payload = payload
        self.key = key
        self.tries = 0
        self.endpoint: Endpoint[_Pending] | None = None
        self.deadline = 0.0
        self.done = False


class ForwardClient:
    def __init__(
        self,
        cfg: ForwardConfig,
        on_ack: Callable[[Chunk], None],
        on_drop: Callable[[Chunk], None] | None = None,
        *,
        counters: ClientCounters,
        rng: random.Random | None = None,
    ) -> None:
        self.cfg = cfg
        self._m = counters
        self._on_ack = on_ack
        self._on_drop = on_drop
        self._rng = rng or random.Random()
        try:
            self._ssl = make_ssl_context(cfg.tls)
        except OSError as e:  # ssl.SSLError is an OSError
            raise ForwardSetupError(
                f"forward.tls: cannot load the CA or client certificate: {e}"
            ) from None
        if cfg.security is not None:
            try:
                load_credentials(cfg.security)  # fail at start, not at the first connect
            except HandshakeError as e:
                raise ForwardSetupError(f"forward.security.{e}") from None
        self._pending: dict[str, _Pending] = {}
        self._queue: deque[_Pending] = deque()
        self._pool: Pool[_Pending] = Pool()
        self._wake = asyncio.Event()  # the dispatcher has something to look at
        self._sent = asyncio.Event()  # a chunk is waiting for its ack: the watchdog watches
        self._changed = asyncio.Event()  # pulsed when a server goes up or down
        self._space = asyncio.Event()  # a chunk left `_pending`
        self._closed = asyncio.Event()
        self._tg: asyncio.TaskGroup | None = None
        self.last_ack_monotonic: float | None = None

    # --- the contract ---------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Chunks sent or queued, not yet acked."""
        return len(self._pending)

    async def send(self, chunk: Chunk) -> None:
        """Queue a chunk; waits while `max_chunks_in_flight` chunks are unacked."""
        if chunk.count == 0:
            # Only tickets (every line of the batch was withheld): nothing to deliver.
            self._safe_callback(self._on_ack, chunk)
            return
        if not chunk.chunk_id:
            chunk.chunk_id = os.urandom(16)
        payload = await self._encode(chunk)
        while len(self._pending) >= self.cfg.max_chunks_in_flight:
            self._space.clear()
            await self._space.wait()
        entry = _Pending(chunk, payload, chunk_key(chunk.chunk_id))
        self._pending[entry.key] = entry
        self._queue.append(entry)
        self._m.chunks_in_flight.set(len(self._pending))
        self._wake.set()

    async def drain(self, timeout: float) -> bool:
        """Wait until every chunk handed to `send` is acked; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while self._pending:
                    self._space.clear()
                    await self._space.wait()
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Make `run` return; unacked chunks stay unacked (their offsets are not committed)."""
        self._closed.set()
        self._wake.set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            loops = [
                tg.create_task(self._resolve_loop(), name="forward-resolve"),
                tg.create_task(self._dispatch_loop(), name="forward-dispatch"),
                tg.create_task(self._watchdog_loop(), name="forward-watchdog"),
            ]
            await self._closed.wait()
            for task in loops:
                task.cancel()
            for ep in self._pool.all():
                if ep.task is not None:
                    ep.task.cancel()
        self._tg = None

    # --- encoding -------------------------------------------------------------------------

    async def _encode(self, chunk: Chunk) -> bytes:
        cfg = self.cfg
        args = (chunk, cfg.compress, cfg.require_ack, cfg.compress_level)
        if cfg.compress != "none" and len(chunk.entries) >= _THREAD_COMPRESS_BYTES:
            return await asyncio.to_thread(encode_message, *args)
        return encode_message(*args)

    # --- dispatch -------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.clear()
            while self._queue:
                ep = self._pool.pick()
                if ep is None:
                    break
                entry = self._queue.popleft()
                if entry.done:
                    continue
                self._write(ep, entry)
                if not self.cfg.require_ack:
                    await self._confirm_written(ep, entry)
            await self._wake.wait()

    def _write(self, ep: Endpoint[_Pending], entry: _Pending) -> None:
        assert ep.conn is not None
        entry.tries += 1
        entry.endpoint = ep
        entry.deadline = time.monotonic() + self.cfg.ack_timeout
        ep.inflight[entry.key] = entry
        self._sent.set()
        if entry.tries > 1:
            self._m.chunks_retried.labels(ep.name).inc()
        self._m.chunks_sent.labels(ep.name).inc()
        self._m.records_sent.labels(ep.name).inc(entry.chunk.count)
        self._m.bytes_sent.labels(ep.name).inc(len(entry.payload))
        # A server that refuses keepalive answers one message and closes: one chunk each.
        ep.conn.spent = not ep.conn.keepalive
        try:
            ep.conn.write(entry.payload)
        except (OSError, RuntimeError):
            # The keeper sees the closed transport and puts the chunk back in the queue.
            ep.fail_reason = "closed"
            ep.conn.abort()

    async def _confirm_written(self, ep: Endpoint[_Pending], entry: _Pending) -> None:
        """require_ack: false — the chunk counts as delivered once the kernel has it."""
        conn = ep.conn
        assert conn is not None
        try:
            async with asyncio.timeout(self.cfg.ack_timeout):
                await conn.flushed()
        except (OSError, TimeoutError):
            ep.fail_reason = "timeout"
            conn.abort()
            return
        if ep.inflight.pop(entry.key, None) is entry:
            ep.failures = 0
            self._complete(entry, acked_by=None)

    # --- acks -----------------------------------------------------------------------------

    def _on_reply(self, ep: Endpoint[_Pending], message: object) -> None:
        """An ack completes its chunk; anything else closes the connection (a receiver
        sends nothing but acks once the handshake is done). Strings arrive as bytes."""
        key = _ack_key(message)
        if key is None:
            raise _unexpected_reply(ep.name, message)
        entry = self._pending.get(key)
        if entry is None or entry.done:
            log.debug("%s: ack for a chunk no longer pending (already acked elsewhere)", ep.name)
            return
        ep.failures = 0
        self._complete(entry, acked_by=ep)

    def _complete(self, entry: _Pending, acked_by: Endpoint[_Pending] | None) -> None:
        """The one place a chunk leaves `_pending` as delivered: `on_ack` exactly once."""
        entry.done = True
        del self._pending[entry.key]
        if entry.endpoint is not None:
            entry.endpoint.inflight.pop(entry.key, None)
        else:
            with contextlib.suppress(ValueError):
                self._queue.remove(entry)
        now = time.monotonic()
        self.last_ack_monotonic = now
        if acked_by is not None:
            self._m.chunks_acked.labels(acked_by.name).inc()
            self._m.records_acked.labels(acked_by.name).inc(entry.chunk.count)
            self._m.last_ack.set(time.time())
        self._m.chunks_in_flight.set(len(self._pending))
        self._space.set()
        self._safe_callback(self._on_ack, entry.chunk)

    def _drop(self, entry: _Pending, ep: Endpoint[_Pending], reason: str) -> None:
        entry.done = True
        del self._pending[entry.key]
        self._m.chunks_dropped.inc()
        self._m.chunks_in_flight.set(len(self._pending))
        log.error(
            "dropping a chunk of %d records (tag %s) after %d tries, last on %s (%s): "
            "retry_limit reached",
            entry.chunk.count,
            entry.chunk.tag,
            entry.tries,
            ep.name,
            reason,
        )
        self._space.set()
        if self._on_drop is not None:
            self._safe_callback(self._on_drop, entry.chunk)

    @staticmethod
    def _safe_callback(callback: Callable[[Chunk], None], chunk: Chunk) -> None:
        # A failing callback must not tear down the connection that carried the ack.
        try:
            callback(chunk)
        except Exception:
            log.exception("ack/drop callback failed for a chunk of tag %s", chunk.tag)

    # --- connections ----------------------------------------------------------------------

    def _notify_changed(self) -> None:
        self._changed.set()
        self._changed.clear()

    async def _keep(self, ep: Endpoint[_Pending]) -> None:
        """Keep one connection to `ep` open for as long as it is in the pool. Nothing the
        peer sends ends this loop: every failure is that connection's failure."""
        try:
            while not ep.retired:
                while ep.standby and not self._pool.standby_wanted():
                    await self._changed.wait()
                if ep.failures:
                    await asyncio.sleep(
                        backoff_delay(
                            ep.failures, self.cfg.retry_initial, self.cfg.retry_max, self._rng
                        )
                    )
                try:
                    conn = await self._connect(ep)
                except ConnectFailure as refused:
                    self._connect_failed(ep, refused)
                    continue
                except Exception as e:
                    self._connect_failed(ep, _internal_error(ep.name, "connecting", e))
                    continue
                self._up(ep, conn)
                ended = await self._serve(ep, conn)
                if ended is None:
                    self._recycle(ep)
                else:
                    self._down(ep, ended.reason, str(ended))
        finally:
            self._release(ep)

    async def _serve(self, ep: Endpoint[_Pending], conn: Connection) -> ConnectFailure | None:
        """Read replies until the connection ends; why it ended, or None when a server
        that refuses keepalive closed it after answering, as it said it would."""
        try:
            while True:
                for message in await conn.read_messages():
                    self._on_reply(ep, message)
        except ConnectFailure as failure:
            return failure
        except tls_errors() as e:
            reason = getattr(e, "reason", None) or type(e).__name__
            return ConnectFailure("tls", f"{ep.name}: {reason}")
        except (ConnectionError, OSError) as e:
            if conn.spent and not ep.inflight:
                return None
            return ConnectFailure(ep.fail_reason or "closed", str(e) or type(e).__name__)
        except Exception as e:
            return _internal_error(ep.name, "reading replies", e)

    async def _connect(self, ep: Endpoint[_Pending]) -> Connection:
        creds = None
        if self.cfg.security is not None:
            try:
                creds = load_credentials(self.cfg.security)
            except HandshakeError as e:
                raise ConnectFailure("auth", f"{ep.name}: {e}") from None
        ep.state = "connecting"
        conn = await open_connection(
            ep.name,
            ep.address,
            ep.port,
            timeout=self.cfg.connect_timeout,
            ssl_ctx=self._ssl,
            tls_name=ep.tls_name,
            creds=creds,
            keepalive_interval=self.cfg.heartbeat_interval,
        )
        if not self.cfg.require_ack:
            conn.unbuffered()
        return conn

    def _up(self, ep: Endpoint[_Pending], conn: Connection) -> None:
        ep.conn = conn
        ep.state = "up"
        ep.fail_reason = None
        self._m.server_up.labels(ep.name).set(1)
        log.info("connected to %s%s", ep.name, " (standby)" if ep.standby else "")
        self._notify_changed()
        self._wake.set()

    def _connect_failed(self, ep: Endpoint[_Pending], failure: ConnectFailure) -> None:
        ep.state = "down"
        ep.failures += 1
        self._m.server_up.labels(ep.name).set(0)
        self._m.chunks_failed.labels(ep.name, failure.reason).inc()
        log.warning(
            "%s (reason %s, attempt %d, %d chunks waiting)",
            failure,
            failure.reason,
            ep.failures,
            len(self._queue),
        )
        self._notify_changed()

    def _recycle(self, ep: Endpoint[_Pending]) -> None:
        """The server closed after answering our one chunk (its HELO said keepalive false):
        not a failure, so reconnect at once, without backoff or a failure count."""
        if ep.conn is not None:
            ep.conn.abort()
            ep.conn = None
        ep.state = "connecting"
        self._queue.extendleft(reversed(self._take_inflight(ep)))
        log.debug("%s: closed after its answer (keepalive false); reconnecting", ep.name)

    def _down(self, ep: Endpoint[_Pending], reason: str, detail: str) -> None:
        """A connection that was up ended: back off, resend what it had in flight."""
        if ep.conn is not None:
            ep.conn.abort()
            ep.conn = None
        ep.state = "down"
        ep.failures += 1
        self._m.server_up.labels(ep.name).set(0)
        lost = self._take_inflight(ep)
        requeue: list[_Pending] = []
        for entry in lost:
            self._m.chunks_failed.labels(ep.name, reason).inc()
            if self.cfg.retry_limit and entry.tries >= self.cfg.retry_limit:
                self._drop(entry, ep, reason)
            else:
                requeue.append(entry)
        self._queue.extendleft(reversed(requeue))
        log.warning(
            "connection to %s ended (%s%s); %d unacked chunks queued again",
            ep.name,
            reason,
            f": {detail}" if detail else "",
            len(requeue),
        )
        self._notify_changed()
        self._wake.set()

    def _take_inflight(self, ep: Endpoint[_Pending]) -> list[_Pending]:
        entries = sorted((e for e in ep.inflight.values() if not e.done), key=lambda e: e.deadline)
        ep.inflight.clear()
        for entry in entries:
            entry.endpoint = None
        return entries

    def _release(self, ep: Endpoint[_Pending]) -> None:
        """The keeper ends (close, or the address left DNS): hand back its chunks."""
        if ep.conn is not None:
            ep.conn.abort()
            ep.conn = None
        ep.state = "down"
        if ep.retired:
            with contextlib.suppress(KeyError):
                self._m.server_up.remove(ep.name)
        else:
            self._m.server_up.labels(ep.name).set(0)
        self._queue.extendleft(reversed(self._take_inflight(ep)))
        self._notify_changed()
        self._wake.set()

    # --- timeouts -------------------------------------------------------------------------

    async def _watchdog_loop(self) -> None:
        if not self.cfg.require_ack:
            return  # nothing waits for an ack
        tick = min(1.0, self.cfg.ack_timeout / 4)
        while True:
            if not any(ep.inflight for ep in self._pool.all()):
                self._sent.clear()  # idle: sleep until a chunk is written, not on a timer
                await self._sent.wait()
            await asyncio.sleep(tick)
            now = time.monotonic()
            for ep in self._pool.all():
                conn = ep.conn
                if conn is None or conn.closing:
                    continue
                late = sum(1 for e in ep.inflight.values() if e.deadline <= now)
                if late:
                    log.warning(
                        "%s: %d chunks not acked within ack_timeout %gs; reconnecting",
                        ep.name,
                        late,
                        self.cfg.ack_timeout,
                    )
                    ep.fail_reason = "timeout"
                    conn.abort()

    # --- resolution -----------------------------------------------------------------------

    async def _resolve_loop(self) -> None:
        while True:
            complete = True
            resolved: list[tuple[int, ServerConfig, set[str]]] = []
            for index, server in enumerate(self.cfg.servers):
                try:
                    resolved.append((index, server, await self._resolve(server)))
                except (OSError, TimeoutError) as e:
                    complete = False
                    log.warning("cannot resolve %s: %s", server.host, e)
            # All at once, so a standby listed first does not connect before the primaries
            # exist (standbys connect when every primary is down).
            for index, server, addresses in resolved:
                self._update_pool(index, server, addresses)
            if complete and self.cfg.resolve_interval <= 0:
                return
            interval = self.cfg.resolve_interval or self.cfg.retry_max
            await asyncio.sleep(interval if complete else min(interval, self.cfg.retry_max, 5.0))

    async def _resolve(self, server: ServerConfig) -> set[str]:
        if is_ip_literal(server.host):
            return {server.host}
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.cfg.connect_timeout):
            infos = await loop.getaddrinfo(
                server.host, server.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        addresses = {str(info[4][0]) for info in infos}
        if not addresses:
            raise OSError(f"{server.host} resolved to no address")
        return addresses

    def _update_pool(self, index: int, server: ServerConfig, addresses: set[str]) -> None:
        assert self._tg is not None
        current = {addr for (i, addr) in self._pool.endpoints if i == index}
        for address in sorted(addresses - current):
            ep: Endpoint[_Pending] = Endpoint(server, address, self.cfg.tls.server_name)
            self._pool.endpoints[(index, address)] = ep
            ep.task = self._tg.create_task(self._keep(ep), name=f"forward-{ep.name}")
            if current:
                log.info("%s: new address, server %s added", server.host, ep.name)
        for address in current - addresses:
            ep = self._pool.endpoints.pop((index, address))
            ep.retired = True
            if ep.task is not None:
                ep.task.cancel()
            log.info("%s: address gone, server %s removed", server.host, ep.name)
