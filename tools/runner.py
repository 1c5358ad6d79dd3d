"""`collector run` as a child process, and the config it runs with: the one runner that the
tests, the benchmarks and their smoke tests share.

`write_config` writes a config for one source into one Forward receiver on loopback;
`quick=True` (the tests) adds short timings so that a test waits for events rather than
for the product's defaults, `quick=False` (the benchmarks) measures those defaults.
`CollectorProcess` starts the collector, reads its JSON log lines, stops it with SIGTERM;
with `measure=True` it also samples CPU and RSS and reaps the process with its rusage.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]

# Deadlines that hold on a busy 2-core machine: tests wait for events (a log line, a file,
# a metric) and these only bound how long a broken run takes to fail.
START_TIMEOUT = 90.0
STOP_TIMEOUT = 90.0

# The tests' timings: a rotation, a flush, a checkpoint or a retry within a fraction of
# a second, and a drain that a slow machine finishes.
QUICK: dict[str, Any] = {
    "source": {"poll_interval": "50ms", "rotate_wait": "1s"},
    "forward": {
        "flush_interval": "200ms",
        "retry_initial": "100ms",
        "retry_max": "1s",
        "connect_timeout": "1s",
        "ack_timeout": "30s",
    },
    "pipeline": {"checkpoint_interval": "200ms", "shutdown_timeout": "60s"},
}


def write_config(
    workdir: Path,
    port: int,
    source: dict[str, Any] | None = None,
    *,
    quick: bool = True,
    **overrides: Any,
) -> Path:
    """workdir/collector.yaml: one source (by default workdir/logs/*.log, tag payment.app)
    into the receiver on 127.0.0.1:`port`, checkpoints in workdir/state, metrics on a free
    loopback port. `source` merges into the source; other keyword arguments merge (deeply)
    into the top level."""
    cfg: dict[str, Any] = {
        "sources": [
            {"name": "payment", "paths": [str(workdir / "logs" / "*.log")], "tag": "payment.app"}
        ],
        "checkpoint_dir": str(workdir / "state"),
        "forward": {"servers": [{"host": "127.0.0.1", "port": port}]},
        "metrics": {"listen": "127.0.0.1:0"},
    }
    if quick:
        cfg["sources"][0].update(QUICK["source"])
        merge(cfg, {k: v for k, v in QUICK.items() if k != "source"})
    cfg["sources"][0].update(source or {})
    merge(cfg, overrides)
    (workdir / "logs").mkdir(exist_ok=True)
    path = workdir / "collector.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Merge `extra` into `base`, maps key by key, anything else replaced."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


class CollectorProcess:
    """`collector run --config CONFIG` as a child; its stderr goes to collector-stderr.log
    beside the config.

    `wrap` runs it under a profiler (`child=True`: the measured process is the wrapper's
    child), `launcher` replaces `python -m collector`, `tree` runs another source tree
    (A/B across commits).
    """

    def __init__(
        self,
        config: Path,
        env: dict[str, str] | None = None,
        *,
        wrap: list[str] | None = None,
        launcher: list[str] | None = None,
        child: bool = True,
        tree: str | None = None,
    ) -> None:
        self.config = config
        self.env = {**os.environ, **(env or {})}
        if tree:
            self.env["PYTHONPATH"] = tree
        self.cwd = tree or str(REPO)
        self.argv = [
            *(wrap or []),
            *(launcher or [sys.executable, "-m", "collector"]),
            "run",
            "--config",
            str(config),
        ]
        self.wrapped = bool(wrap) and child
        self.stderr_path = config.parent / "collector-stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0  # time_ns at start
        # measure=True: psutil's view of the collector, sampled every 50 ms
        self.ps: Any = None
        self.peak_rss = 0
        self.rss_samples: list[tuple[float, int]] = []
        self.rusage: Any = None
        self._sampling = threading.Event()

    def start(self, wait: bool = True, measure: bool = False) -> CollectorProcess:
        stderr = self.stderr_path.open("ab")
        self.started = time.time_ns()
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        stderr.close()
        if measure:
            self._measure()
        if wait:
            self.wait_started()
        return self

    # --- the tests' view: log lines and signals ----------------------------------------
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

    # --- the benchmarks' view: CPU, RSS, rusage ----------------------------------------
    def _measure(self) -> None:
        import psutil  # type: ignore[import-untyped,unused-ignore]  # a bench dependency

        assert self.proc is not None
        self.ps = psutil.Process(self.proc.pid)
        if self.wrapped:  # a profiler started the collector: measure its child
            deadline = time.monotonic() + 10
            while not self.ps.children() and time.monotonic() < deadline:
                time.sleep(0.01)
            self.ps = self.ps.children()[0]
        self._sampling.set()
        threading.Thread(target=self._sample, args=(psutil.Error,), daemon=True).start()

    def _sample(self, error: type[Exception]) -> None:
        while self._sampling.is_set():
            with contextlib.suppress(error):
                rss = self.ps.memory_info().rss
                self.peak_rss = max(self.peak_rss, rss)
                self.rss_samples.append((time.monotonic(), rss))
            time.sleep(0.05)

    def stop_sampling(self) -> None:
        self._sampling.clear()

    def cpu(self) -> float:
        """User + sys seconds so far (measure=True)."""
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then reap with wait4 to get the exact rusage of the whole life."""
        assert self.proc is not None
        self.stop_sampling()
        if self.ps is not None:
            with contextlib.suppress(Exception):
                self.ps.send_signal(signal.SIGTERM)  # the collector, even under a profiler
        else:
            self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status, rusage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.rusage = rusage
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return self.proc.returncode
            time.sleep(0.05)
        self.proc.kill()
        _, status, self.rusage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return self.proc.returncode

    @property
    def max_rss(self) -> int:
        """ru_maxrss (KiB on Linux) in bytes, or the sampled peak before the process ended."""
        if self.rusage is not None:
            return max(self.peak_rss, int(self.rusage.ru_maxrss) * 1024)
        return self.peak_rss


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
