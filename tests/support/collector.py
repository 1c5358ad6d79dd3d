"""Run `collector run` as a real process against files and a real receiver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tests.support.receiver import REPO


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
            "ack_timeout": "5s",
        },
        "metrics": {"listen": "127.0.0.1:0"},
        "pipeline": {"checkpoint_interval": "200ms", "shutdown_timeout": "10s"},
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

    def wait_started(self, timeout: float = 30.0) -> None:
        """Wait until the collector logged that its sources are open."""
        ok = wait_until(
            lambda: any(e.get("msg") == "collector started" for e in self.logs()), timeout
        )
        assert ok, "collector did not start"

    def terminate(self, timeout: float = 30.0) -> int:
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
