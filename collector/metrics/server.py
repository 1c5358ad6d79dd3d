"""The HTTP side: /metrics, /healthz, /readyz on one listen address.

prometheus_client's WSGI app does the exposition (text 0.0.4, or OpenMetrics when the
scraper's Accept header asks, gzip when accepted); wsgiref serves it from a background
thread, so a slow scrape never blocks the event loop and the loop's own stall shows up
on /healthz.

Each connection has a thread; a client that connects and never sends a request (or stops
half-way) is dropped after `READ_TIMEOUT`, so idle connections cannot pile up threads.
The listen backlog is the usual 128, not socketserver's 5: a burst of probes and scrapes
must not have its SYNs dropped while a 1 s probe timeout is ticking.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from collector.metrics.config import MetricsConfig
from collector.metrics.health import Health
from collector.metrics.internal import REGISTRY
from collector.metrics.scrub import Scrub, scrubbed
from collector.metrics.textfile import TextfileCollector

StartResponse = Callable[..., Any]
_TEXT = ("Content-Type", "text/plain; charset=utf-8")
READ_TIMEOUT = 10.0  # seconds a connection may take to send its request
BACKLOG = 128

log = logging.getLogger("collector.metrics")


def split_listen(listen: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` (all interfaces) → (host, port)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: a scrape every 15 s is not news."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingWSGIServer):  # type: ignore[misc]
    request_queue_size = BACKLOG

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out or went away is routine; anything else is logged as one
        JSON line (socketserver would print a traceback on stderr)."""
        error = sys.exc_info()[1]
        if isinstance(error, TimeoutError | ConnectionError):
            return
        log.warning(
            "metrics request failed", extra={"error": type(error).__name__ if error else None}
        )


def _wake(httpd: WSGIServer) -> None:
    """Connect to the server so that its blocking accept returns and sees `_stopping`."""
    host, port = str(httpd.server_address[0]), int(httpd.server_address[1])
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
        registry: CollectorRegistry = REGISTRY,
        scrub: Scrub | None = None,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        """`scrub` (the redactor's `redact_text`) is applied to every label value served."""
        self._cfg = cfg
        self._health = health
        self._registry = registry
        self._read_timeout = read_timeout
        self._metrics_app = make_wsgi_app(scrubbed(registry, scrub))
        self._textfile: TextfileCollector | None = None
        self._httpd: WSGIServer | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI app: exposed so tests and embedders can call it without a socket."""
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            result: Iterable[bytes] = self._metrics_app(environ, start_response)
            return result
        if path in ("/healthz", "/readyz"):
            ok, reason = self._health.live() if path == "/healthz" else self._health.ready()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [_TEXT])  # a fresh list: wsgiref appends to it
            return [f"{reason}\n".encode()]
        if path == "/":
            start_response("200 OK", [_TEXT])
            return [b"collector: /metrics /healthz /readyz\n"]
        start_response("404 Not Found", [_TEXT])
        return [b"not found: try /metrics, /healthz or /readyz\n"]

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("metrics server already started")
        host, port = split_listen(self._cfg.listen)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, sockaddr = infos[0]

        class Server(_Server):
            address_family = family

        class Handler(_QuietHandler):
            timeout = self._read_timeout

        try:
            self._httpd = make_server(
                str(sockaddr[0]), port, self.app, Server, handler_class=Handler
            )
        except OSError as e:
            msg = f"metrics: cannot listen on {self._cfg.listen}: {e.strerror}"
            raise OSError(e.errno, msg) from e
        # The service's own *.prom files are served only through this endpoint, so the
        # endpoint owns their collector (registered while serving, when paths are set).
        self._textfile = TextfileCollector(self._cfg.textfile, self._registry)
        self._thread = threading.Thread(
            target=self._serve, args=(self._httpd,), name="metrics-http", daemon=True
        )
        self._thread.start()

    def _serve(self, httpd: WSGIServer) -> None:
        """Block in accept until a request comes: no timer wakes an idle sidecar.

        socketserver's serve_forever polls every 0.5 s to notice shutdown; here `stop`
        wakes the loop with a connection of its own instead.
        """
        while not self._stopping:
            httpd.handle_request()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("metrics server not started")
        return int(self._httpd.server_port)

    def stop(self) -> None:
        httpd, thread, textfile = self._httpd, self._thread, self._textfile
        self._httpd = self._thread = self._textfile = None
        self._stopping = True
        if httpd is not None and thread is not None:
            _wake(httpd)
            thread.join(timeout=5)
        if httpd is not None:
            httpd.server_close()
        if textfile is not None:
            textfile.close()
