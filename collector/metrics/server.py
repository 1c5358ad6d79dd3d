"""The HTTP side: /metrics, /healthz, /readyz on one listen address.

A small HTTP/1.0 server over `socket` and `threading` rather than wsgiref and
prometheus_client's WSGI app: those import `http.server`, `email`, `urllib` and, through
prometheus_client, `ssl` (libcrypto), several MiB of a sidecar's memory for a handful of
GET requests (docs/decisions.md). Responses are what the WSGI app gave: the same status
lines, bodies and Content-Type, the exposition negotiated by metrics/exposition.py.

One thread blocks in accept, so an idle sidecar has no timer waking it (socketserver's
serve_forever polls every 0.5 s); `stop` wakes it with a connection of its own. Each
connection gets a short-lived thread and one request (HTTP/1.0: no keep-alive), so a slow
scrape never blocks the event loop and the loop's own stall shows up on /healthz.

A client that does not send its whole request within `READ_TIMEOUT` (never starts, stops
half-way, or trickles a byte at a time) is dropped, so idle connections cannot pile up
threads. The listen backlog is the
usual 128, not socketserver's 5: a burst of probes and scrapes must not have its SYNs
dropped while a 1 s probe timeout is ticking.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from collector.metrics.config import MetricsConfig
from collector.metrics.core import Registry
from collector.metrics.exposition import metrics_response, unquote
from collector.metrics.health import Health
from collector.metrics.internal import REGISTRY
from collector.metrics.scrub import Scrub, scrubbed
from collector.metrics.textfile import TextfileCollector

Response = tuple[str, list[tuple[str, str]], bytes]
_TEXT = ("Content-Type", "text/plain; charset=utf-8")
READ_TIMEOUT = 10.0  # seconds a connection may take to send its request
BACKLOG = 128
MAX_HEAD = 65536  # bytes of request line and headers (http.server's line limit)
MAX_BODY = 65536  # a request body is read (and ignored) up to this, so close sends no RST
_SERVER_ERROR = b"A server error occurred.  Please contact the administrator."
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

log = logging.getLogger("collector.metrics")


def split_listen(listen: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` (all interfaces) → (host, port)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class BadRequest(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class Request:
    """One parsed request: method, path (percent-decoded), query, headers (lower-case)."""

    __slots__ = ("headers", "method", "path", "query")

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str]) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers


def read_request(conn: socket.socket, timeout: float) -> Request | None:
    """Read the request head (and any small body) within `timeout` seconds in all (not per
    read: a client sending a byte at a time is cut off too); None when it sent nothing."""
    deadline = time.monotonic() + timeout
    recv = _reader(conn, deadline)
    buf = b""
    while True:
        end = buf.find(b"\r\n\r\n")
        sep = 4
        if end < 0:
            end, sep = buf.find(b"\n\n"), 2
        if end > MAX_HEAD or (end < 0 and len(buf) > MAX_HEAD):
            first = buf.find(b"\n")
            raise BadRequest(
                "414 Request-URI Too Long"
                if first < 0 or first > MAX_HEAD
                else "431 Request Header Fields Too Large"
            )
        if end >= 0:
            break
        chunk = recv(8192)
        if not chunk:
            if buf.strip():
                raise BadRequest("400 Bad Request")
            return None
        buf += chunk
    head, rest = buf[:end].decode("latin-1"), buf[end + sep :]
    lines = head.replace("\r\n", "\n").split("\n")
    words = lines[0].split()
    if len(words) != 3 or not words[2].startswith("HTTP/"):
        raise BadRequest("400 Bad Request")
    method, target, _ = words
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise BadRequest("400 Bad Request")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    _drain_body(recv, rest, headers.get("content-length", ""))
    path, _, query = target.partition("?")
    return Request(method, unquote(path, "latin-1", plus=False), query, headers)


def _reader(conn: socket.socket, deadline: float) -> Callable[[int], bytes]:
    def recv(size: int) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        conn.settimeout(left)
        return conn.recv(size)

    return recv


def _drain_body(recv: Callable[[int], bytes], got: bytes, length: str) -> None:
    want = min(int(length), MAX_BODY) if length.isdigit() else 0
    seen = len(got)
    while seen < want:
        chunk = recv(min(8192, want - seen))
        if not chunk:
            return
        seen += len(chunk)


def http_date(now: float) -> str:
    t = time.gmtime(now)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def write_response(conn: socket.socket, response: Response) -> None:
    status, headers, body = response
    head = [f"HTTP/1.0 {status}", f"Date: {http_date(time.time())}"]
    head += [f"{k}: {v}" for k, v in headers]
    head.append(f"Content-Length: {len(body)}")
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


def _wake(address: tuple[Any, ...]) -> None:
    """Connect to the server so that its blocking accept returns and sees `_stopping`."""
    host, port = str(address[0]), int(address[1])
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        pass


class MetricsServer:
    def __init__(
        self,
        cfg: MetricsConfig,
        health: Health,
        registry: Registry = REGISTRY,
        scrub: Scrub | None = None,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        """`scrub` (the redactor's `redact_text`) is applied to every label value served."""
        self._cfg = cfg
        self._health = health
        self._registry = registry
        self._read_timeout = read_timeout
        self._exposed = scrubbed(registry, scrub)
        self._textfile: TextfileCollector | None = None
        self._sock: socket.socket | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def respond(self, request: Request) -> Response:
        """The response to one request: exposed so tests can call it without a socket."""
        path = request.path
        if path == "/metrics":
            h = request.headers
            return metrics_response(
                self._exposed,
                request.method,
                request.query,
                h.get("accept"),
                h.get("accept-encoding"),
            )
        if path in ("/healthz", "/readyz"):
            ok, reason = self._health.live() if path == "/healthz" else self._health.ready()
            status = "200 OK" if ok else "503 Service Unavailable"
            return status, [_TEXT], f"{reason}\n".encode()
        if path == "/":
            return "200 OK", [_TEXT], b"collector: /metrics /healthz /readyz\n"
        return "404 Not Found", [_TEXT], b"not found: try /metrics, /healthz or /readyz\n"

    def start(self) -> None:
        if self._sock is not None:
            raise RuntimeError("metrics server already started")
        host, port = split_listen(self._cfg.listen)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, sockaddr = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(BACKLOG)
        except OSError as e:
            sock.close()
            msg = f"metrics: cannot listen on {self._cfg.listen}: {e.strerror}"
            raise OSError(e.errno, msg) from e
        self._sock = sock
        self._stopping = False
        # The service's own *.prom files are served only through this endpoint, so the
        # endpoint owns their collector (registered while serving, when paths are set).
        self._textfile = TextfileCollector(self._cfg.textfile, self._registry)
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name="metrics-http", daemon=True
        )
        self._thread.start()

    def _serve(self, sock: socket.socket) -> None:
        """Block in accept until a connection comes: no timer wakes an idle sidecar."""
        while not self._stopping:
            try:
                conn, _ = sock.accept()
            except OSError:
                if self._stopping:
                    return
                time.sleep(0.1)  # EMFILE and the like: let fds free up, then try again
                continue
            if self._stopping:
                conn.close()
                return
            threading.Thread(
                target=self._handle, args=(conn,), name="metrics-conn", daemon=True
            ).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                try:
                    request = read_request(conn, self._read_timeout)
                except BadRequest as e:
                    response = (e.status, [_TEXT], f"{e.status}\n".encode())
                else:
                    if request is None:
                        return
                    response = self._respond_or_500(request)
                conn.settimeout(self._read_timeout)  # as long again to send the response
                write_response(conn, response)
            except (TimeoutError, ConnectionError):
                return  # a client that timed out or went away is routine
            except OSError as e:
                log.warning("metrics request failed", extra={"error": type(e).__name__})

    def _respond_or_500(self, request: Request) -> Response:
        try:
            return self.respond(request)
        except Exception as e:
            log.warning("metrics request failed", extra={"error": type(e).__name__})
            return "500 Internal Server Error", [_TEXT], _SERVER_ERROR

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("metrics server not started")
        return int(self._sock.getsockname()[1])

    def stop(self) -> None:
        sock, thread, textfile = self._sock, self._thread, self._textfile
        self._sock = self._thread = self._textfile = None
        self._stopping = True
        if sock is not None and thread is not None:
            _wake(sock.getsockname())
            thread.join(timeout=5)
        if sock is not None:
            sock.close()
        if textfile is not None:
            textfile.close()
