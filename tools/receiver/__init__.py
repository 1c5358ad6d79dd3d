"""The receivers a collector ships to in tests, benchmarks and `make run`.

`FluentReceiver` (here) starts and stops the real Forward receiver, FluentServer from npm
@fluent-org/logger (receiver.js beside this file); `sink.py` is the benchmarks' fast
acking receiver, in Python, with `SinkProcess` to run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "receiver" / "receiver.js"


class FluentReceiver:
    """A FluentServer in a node process, writing each entry as a JSON line to `out`.

    `stop()`/`kill()` and `start()` keep the port, so a test can take the receiver down
    and bring it back where the collector expects it.
    """

    def __init__(self, out: Path, port: int = 0, extra_args: list[str] | None = None) -> None:
        self.out = out
        self.port = port
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> FluentReceiver:
        args = ["node", str(SCRIPT), "--port", str(self.port), "--out", str(self.out)]
        self.proc = subprocess.Popen(
            args + self.extra_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(b"LISTENING "):
                self.port = int(line.split()[1])
                return self
            if not line and self.proc.poll() is not None:
                break
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        self.kill()
        raise RuntimeError(f"receiver did not start: {err[-2000:]}")

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def entries(self) -> list[dict[str, Any]]:
        """Every entry received so far: {"tag", "time", "record"}."""
        if not self.out.exists():
            return []
        result = []
        with self.out.open("rb") as f:
            for line in f:
                if line.endswith(b"\n"):
                    result.append(json.loads(line))
        return result

    def count(self) -> int:
        """Entries received so far, without decoding them (cheap enough to poll)."""
        if not self.out.exists():
            return 0
        with self.out.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))

    def records(self) -> list[dict[str, Any]]:
        return [e["record"] for e in self.entries()]

    def wait_for(self, count: int, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Wait until at least `count` entries arrived; returns them (may be fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.entries()
