"""Run `collector run` as a real process against files and a real receiver."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tests.support.receiver import REPO

# Deadlines that hold on a busy 2-core machine: tests wait for events (a log line, a file,
# a metric) and these only bound how long a broken run takes to fail.
START_TIMEOUT = 90.0
STOP_TIMEOUT = 90.0
DELIVERY_TIMEOUT = 120.0


def write_config(
    tmp: Path, port: int, source: dict[str, Any] | None = None, **overrides: Any
) -> Path:
    """A config tailing tmp/logs/*.log into the receiver on `port`.

    `source` merges into the one source; other keyword arguments merge into the top level.
    """
    cfg: dict[str, Any] = {
        "sources": [
            {
                "name": "payment",
                "paths": [str(tmp / "logs" / "*.log")],
                "tag": "payment.app",
                "poll_interval": "50ms",
                "rotate_wait": "1s",
            }
        ],
        "checkpoint_dir": str(tmp / "state"),
        "forward": {
            "servers": [{"host": "127.0.0.1", "port": port}],
            "flush_interval": "200ms",
            "retry_initial": "100ms",
            "retry_max": "1s",
            "connect_timeout": "1s",
            "ack_timeout": "30s",
        },
        "metrics": {"listen": "127.0.0.1:0"},
        "pipeline": {"checkpoint_interval": "200ms", "shutdown_timeout": "60s"},
    }
    cfg["sources"][0].update(source or {})
    _merge(cfg, overrides)
    (tmp / "logs").mkdir(exist_ok=True)
    path = tmp / "collector.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


class CollectorProcess:
    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.env = {**os.environ, **(env or {})}
        self.stderr_path = config.parent / "collector-stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> CollectorProcess:
        stderr = self.stderr_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collector", "run", "--config", str(self.config)],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        stderr.close()
        if wait:
            self.wait_started()
        return self

    def wait_started(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until the collector logged that its sources are open (or exited)."""
        self.wait_log("collector started", timeout)

    def wait_log(self, msg: str, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        """The first log line whose `msg` is `msg`; fails early if the process exits."""
        assert self.proc is not None
        proc = self.proc

        def found() -> dict[str, Any] | None:
            return next((e for e in self.logs() if e.get("msg") == msg), None)

        wait_until(lambda: found() is not None or proc.poll() is not None, timeout)
        entry = found()
        tail = self.stderr_path.read_text(errors="replace")[-2000:]
        assert entry is not None, f"no {msg!r} log line (exit code {proc.poll()}): {tail}"
        return entry

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def rss_bytes(self) -> int:
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def logs(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self.stderr_path.exists():
            return out
        for line in self.stderr_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"raw": line})
        return out


def checkpoint_offsets(state: Path) -> dict[str, int]:
    """path -> acked offset, from the collector's checkpoint file."""
    data = json.loads((state / "checkpoints.json").read_text())
    return {e["path"]: e["offset"] for e in data["files"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int, path: str = "/metrics") -> str:
    """The body of GET `path` on the metrics endpoint, or "" while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
            body: bytes = resp.read()
            return body.decode()
    except OSError:
        return ""


def wait_until(predicate: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def seqs(records: list[dict[str, Any]]) -> Counter[int]:
    """How often each simulator `seq` arrived."""
    return Counter(r["seq"] for r in records if "seq" in r)


def missing(got: Counter[int], count: int) -> int:
    """How many of the seqs 1..count never arrived."""
    return sum(1 for s in range(1, count + 1) if s not in got)
