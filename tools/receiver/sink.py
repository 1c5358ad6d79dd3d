"""A fast acking Forward receiver for the benchmarks, run as its own process (`SinkProcess`).

It must cost the machine as little as possible, because it shares the 2 CPUs with the
collector being measured: it decodes only the envelope `[tag, bin, {size, chunk}]`,
counts entries from `size` and replies `{"ack": chunk}`. With `--latency` it also decodes
the entries to read each EventTime and records receive time minus event time.

It talks to the benchmark on stdout, one line per event:

    port 40123            listening
    first <ns> <count>    first entries received
    count <ns> <count>    progress, at most every 0.2 s
    done <ns> <count>     `--expect` entries received (and acked)
    stats {json}          at SIGTERM: totals and, with --latency, latency percentiles

    python -m tools.receiver.sink --port 0 --expect 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
import msgspec

_REPO = Path(__file__).resolve().parents[2]
_ack = msgspec.msgpack.Encoder()
_NS = 1_000_000_000


def _event_time_ns(code: int, data: bytes) -> int:
    sec = int.from_bytes(data[:4], "big")
    nsec = int.from_bytes(data[4:8], "big")
    return sec * _NS + nsec


class Stats:
    """What the benchmark reads back: entry counts, chunk counts, latency samples."""

    def __init__(self, expect: int, latency: bool) -> None:
        self.expect = expect
        self.latency = latency
        self.entries = 0
        self.chunks = 0
        self.duplicates = 0
        self.seen: set[str] = set()
        self.samples: list[int] = []  # ns, receive - event time
        self.first_ns = 0
        self.done_ns = 0

    def chunk(self, options: dict[str, Any], entries: bytes | list[Any]) -> None:
        now_ns = time.time_ns()
        key = options.get("chunk")
        if key is not None:
            if key in self.seen:
                self.duplicates += 1
                return
            self.seen.add(key)
        size = int(options.get("size", 0)) or (len(entries) if isinstance(entries, list) else 0)
        self.chunks += 1
        self.entries += size
        if self.latency:
            for entry in _entries(entries):
                self.samples.append(now_ns - _time_ns(entry[0]))
        if not self.first_ns:
            self.first_ns = now_ns
            emit(f"first {now_ns} {self.entries}")
        if self.expect and not self.done_ns and self.entries >= self.expect:
            self.done_ns = now_ns
            emit(f"done {now_ns} {self.entries}")
        else:  # every chunk: a benchmark waiting for the last lines must see them arrive
            emit(f"count {now_ns} {self.entries}")

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "entries": self.entries,
            "chunks": self.chunks,
            "duplicate_chunks": self.duplicates,
            "first_ns": self.first_ns,
            "done_ns": self.done_ns,
        }
        if self.samples:
            s = sorted(self.samples)
            out["latency_ms"] = {
                q: s[min(len(s) - 1, int(len(s) * p))] / 1e6
                for q, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
            }
            out["latency_samples"] = len(s)
        return out


def _entries(entries: bytes | list[Any]) -> Iterable[Any]:
    """PackedForward (the collector) carries msgpack bytes; Forward mode (Fluent Bit's
    out_forward) an array of [time, record]."""
    if isinstance(entries, list):
        return entries
    unpacker = msgpack.Unpacker(ext_hook=msgpack.ExtType, raw=True)
    unpacker.feed(entries)
    decoded: Iterable[Any] = unpacker
    return decoded


def _time_ns(value: Any) -> int:
    """EventTime ext, integer seconds, or Fluent Bit's [EventTime, metadata] pair."""
    if isinstance(value, list | tuple) and not isinstance(value, msgpack.ExtType):
        value = value[0]
    if isinstance(value, msgpack.ExtType):
        return _event_time_ns(value.code, value.data)
    return int(value * _NS)


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class ForwardProtocol(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.unpacker = msgpack.Unpacker(raw=False, max_buffer_size=256 * 1024 * 1024)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.unpacker.feed(data)
        for message in self.unpacker:
            if not isinstance(message, list) or len(message) < 2:
                continue  # a heartbeat or something we do not speak
            entries = message[1]
            options = message[2] if len(message) > 2 and isinstance(message[2], dict) else {}
            if not isinstance(entries, bytes | list):
                continue  # Message mode: neither peer sends it
            self.stats.chunk(options, entries)
            chunk = options.get("chunk")
            if chunk is not None and self.transport is not None:
                self.transport.write(_ack.encode({"ack": chunk}))


async def serve(args: argparse.Namespace) -> None:
    stats = Stats(args.expect, args.latency)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: ForwardProtocol(stats), "127.0.0.1", args.port, reuse_address=True
    )
    port = server.sockets[0].getsockname()[1]
    emit(f"port {port}")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    emit("stats " + json.dumps(stats.summary()))


class SinkProcess:
    """This receiver as a child process; its stdout events land in `events`."""

    def __init__(self, expect: int, latency: bool = False, port: int = 0) -> None:
        cmd = [sys.executable, "-m", "tools.receiver.sink", "--port", str(port)]
        cmd += ["--expect", str(expect)]
        if latency:
            cmd.append("--latency")
        self.proc = subprocess.Popen(cmd, cwd=_REPO, stdout=subprocess.PIPE, text=True)
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        self.count = 0
        self.stats: dict[str, Any] = {}
        self.first_ns = 0
        self.done_ns = 0
        self._port: queue.Queue[int] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        self.port = self._port.get(timeout=30)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            kind, _, rest = line.strip().partition(" ")
            if kind == "port":
                self._port.put(int(rest))
            elif kind == "stats":
                self.stats = json.loads(rest)
            elif kind in ("first", "count", "done"):
                ns, n = rest.split()
                self.count = int(n)
                if kind == "first":
                    self.first_ns = int(ns)
                if kind == "done":
                    self.done_ns = int(ns)
            self.events.put((kind, rest))

    def wait_for(self, kind: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, rest = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if got == kind:
                return rest
        return None

    def stop(self) -> dict[str, Any]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self._thread.join(5)
        return self.stats

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.receiver.sink", description=__doc__)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--expect", type=int, default=0, help="report `done` at this many entries")
    p.add_argument("--latency", action="store_true", help="decode entries for latency")
    asyncio.run(serve(p.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
