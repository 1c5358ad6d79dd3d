"""`make run`: the simulator writes payment logs, the collector ships them to a local
FluentServer that prints what it receives, and metrics are served on 127.0.0.1:2020: the
collector's own and the example payment metrics of config/metrics-example.yaml.

Ctrl-C stops everything in order: the simulator, then the collector (which drains and
checkpoints), then the receiver.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RUN_DIR = REPO / "run"


def _free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_config() -> Path:
    """The sidecar's default config plus the example payment metrics, so /metrics shows both."""
    base = yaml.safe_load((REPO / "config/collector.yaml").read_text())
    example = yaml.safe_load((REPO / "config/metrics-example.yaml").read_text())
    base["metrics"]["derived"] = example["metrics"]["derived"]
    path = RUN_DIR / "collector.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path


def _start(
    args: list[str], env: dict[str, str] | None = None, stdout: int | None = None
) -> subprocess.Popen[bytes]:
    # Own process group: Ctrl-C reaches only this script, which stops the children in order.
    return subprocess.Popen(args, env=env, start_new_session=True, stdout=stdout)


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    logs = RUN_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / "state").mkdir(exist_ok=True)
    port = _free_port(24224)
    metrics_port = _free_port(2020)
    receiver = _start(
        ["node", str(REPO / "tools/receiver/receiver.js"), "--port", str(port), "--pretty"]
    )
    env = dict(os.environ)
    env.update(
        {
            "LOG_DIR": str(logs),
            "CHECKPOINT_DIR": str(RUN_DIR / "state"),
            "FORWARD_HOST": "127.0.0.1",
            "FORWARD_PORT": str(port),
            "METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
            "POD_NAME": "payment-api-demo",
            "POD_NAMESPACE": "payments",
        }
    )
    time.sleep(1.0)
    collector = _start(
        [sys.executable, "-m", "collector", "run", "--config", str(_demo_config())],
        env=env,
    )
    simulator = _start(
        [
            sys.executable,
            "-m",
            "tools.simulator",
            "--out",
            str(logs / "payment.log"),
            "--rate",
            "20",
            "--rotate-bytes",
            "1000000",
        ]
    )
    print(
        f"\n  demo: simulator -> {logs}/payment.log -> collector -> FluentServer :{port}\n"
        f"  metrics: http://127.0.0.1:{metrics_port}/metrics  (also /healthz, /readyz)\n"
        f"  Ctrl-C stops everything.\n",
        file=sys.stderr,
        flush=True,
    )
    try:
        while all(p.poll() is None for p in (receiver, collector, simulator)):
            time.sleep(0.5)
        print("a demo process exited early; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping: simulator, collector (drain), receiver", file=sys.stderr)
        return 0
    finally:
        _stop(simulator, 5)
        _stop(collector, 30)
        _stop(receiver, 5)


if __name__ == "__main__":
    raise SystemExit(main())
