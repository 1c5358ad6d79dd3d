"""The whole thing: `collector run` tails what the simulator writes, ships it to the real
FluentServer, and a real Prometheus scrapes its /metrics, derived metrics included."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson
import pytest
import yaml

from tests.metrics.conftest import EXAMPLE, PROMETHEUS, ROOT, Prometheus, free_port, get
from tools.receiver import FluentReceiver
from tools.simulator import PaymentLogs

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed"),
]


def collector_config(
    tmp_path: Path, receiver_port: int, metrics_port: int, ready_window: str = "60s"
) -> Path:
    derived = yaml.safe_load(EXAMPLE.read_text())["metrics"]["derived"]
    cfg: dict[str, Any] = {
        "sources": [{"name": "payment", "paths": [str(tmp_path / "logs" / "*.log")]}],
        "checkpoint_dir": str(tmp_path / "checkpoints"),
        "forward": {
            "servers": [{"host": "127.0.0.1", "port": receiver_port}],
            "flush_interval": "200ms",
        },
        "metrics": {
            "listen": f"127.0.0.1:{metrics_port}",
            "ready_window": ready_window,
            "derived": derived,
            "textfile": {"paths": [str(tmp_path / "textfiles" / "*.prom")], "interval": "1s"},
        },
        "metadata": {"enabled": False},
    }
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_collector_run_is_scraped_with_derived_metrics(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    prometheus: Callable[[int], Prometheus],
) -> None:
    receiver = fluent_server()
    for d in ("logs", "checkpoints", "textfiles"):
        (tmp_path / d).mkdir()
    (tmp_path / "textfiles" / "settlement.prom").write_text(
        "# HELP svc_settlement_batches_total Settlement batches sent.\n"
        "# TYPE svc_settlement_batches_total counter\nsvc_settlement_batches_total 7\n"
    )
    (tmp_path / "textfiles" / "broken.prom").write_text("svc_broken{ 1\n")
    metrics_port = free_port()
    cfg = collector_config(tmp_path, receiver.port, metrics_port)
    log = (tmp_path / "collector.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", "run", "-c", str(cfg)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        prom = prometheus(metrics_port)
        prom.wait_for("target up", lambda: prom.query("max by (job) (up)") == {"collector": 1.0})

        gen = PaymentLogs(seed=21)
        written: list[dict[str, Any]] = []
        with (tmp_path / "logs" / "app.log").open("ab") as f:
            for _ in range(3):  # the simulator writes while Prometheus scrapes
                lines = [gen.line() for _ in range(300)]
                f.write(b"".join(lines))
                f.flush()
                written.extend(orjson.loads(line) for line in lines)
                time.sleep(1.0)

        by_status: dict[str, float] = {}
        for r in written:
            if str(r.get("event", "")).startswith("payment."):
                by_status[r["payment"]["status"]] = by_status.get(r["payment"]["status"], 0) + 1
        auth = sum(
            1 for r in written if r.get("event") in ("payment.authorised", "payment.declined")
        )

        prom.wait_for(
            "every line acked and counted",
            lambda: (
                prom.query("sum(collector_forward_records_acked_total)")
                == {"": float(len(written))}
            ),
        )
        prom.wait_for(
            "derived payments by status",
            lambda: prom.query("sum by (status) (payments_total)") == by_status,
        )
        assert prom.query("sum(payment_authorisation_duration_seconds_count)") == {"": float(auth)}
        assert prom.query("sum(collector_lines_read_total)") == {"": float(len(written))}
        assert get(metrics_port, "/readyz").status == 200
        assert get(metrics_port, "/healthz").status == 200
        # The service's own textfile is scraped with ours; the broken one is skipped.
        assert prom.query("sum(svc_settlement_batches_total)") == {"": 7.0}
        assert prom.query("sum by (file) (collector_textfile_valid)") == {
            str(tmp_path / "textfiles" / "broken.prom"): 0.0,
            str(tmp_path / "textfiles" / "settlement.prom"): 1.0,
        }
    finally:
        stop_collector(proc, log)
    assert proc.returncode == 0, (tmp_path / "collector.log").read_text()[-3000:]


def start_collector(tmp_path: Path, cfg: Path) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    log = (tmp_path / "collector.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", "run", "-c", str(cfg)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, log


def stop_collector(proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def wait_for_status(port: int, path: str, status: int, timeout: float = 120.0) -> float:
    """Seconds until `path` answers `status` (fails the test after `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if get(port, path).status == status:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{path} did not answer {status} within {timeout}s")


def test_readyz_follows_the_receiver_down_and_back(
    tmp_path: Path, fluent_server: Callable[..., FluentReceiver]
) -> None:
    receiver = fluent_server()
    for d in ("logs", "checkpoints", "textfiles"):
        (tmp_path / d).mkdir()
    metrics_port = free_port()
    cfg = collector_config(tmp_path, receiver.port, metrics_port, ready_window="2s")
    app_log = tmp_path / "logs" / "app.log"
    gen = PaymentLogs(seed=5)
    proc, log = start_collector(tmp_path, cfg)
    try:
        with app_log.open("ab") as f:
            f.write(b"".join(gen.lines(50)))
        wait_for_status(metrics_port, "/readyz", 200)
        wait_until(lambda: len(receiver.entries()) == 50)

        receiver.kill()  # the receiver goes away; new lines cannot be acked
        with app_log.open("ab") as f:
            f.write(b"".join(gen.lines(50)))
        waited = wait_for_status(metrics_port, "/readyz", 503)
        assert waited >= 1.0, "not-ready only after the window, not at the first failure"
        assert get(metrics_port, "/healthz").status == 200, "down receiver is not a dead loop"

        receiver.start()  # back on the same port
        wait_for_status(metrics_port, "/readyz", 200)
        wait_until(lambda: any(e["record"].get("seq") == 100 for e in receiver.entries()))
    finally:
        stop_collector(proc, log)


def wait_until(check: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail("condition not reached in time")
