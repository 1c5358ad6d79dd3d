"""A real Prometheus scrapes a MetricsServer fed with simulated payment logs.

Debian's `prometheus` runs on loopback with its TSDB in a temp dir, scraping every second
with exemplar storage on; the test asks its HTTP API what it stored.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.metrics.derived import DerivedMetrics
from collector.metrics.health import Health
from collector.metrics.pipeline import REGISTRY
from collector.metrics.server import MetricsServer
from collector.simulator import PaymentLogs
from tests.metrics.conftest import example_config

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prometheus:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> dict[str, float]:
        """Instant query of an aggregation by at most one label → {label value or '': value}."""
        result = self.api("query", query=expr)["result"]
        return {
            next((v for k, v in r["metric"].items() if k != "__name__"), ""): float(r["value"][1])
            for r in result
        }

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"prometheus exited: {self.log.read_text()[-2000:]}")
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.3)
        pytest.fail(f"timed out waiting for {what}; prometheus log: {self.log.read_text()[-2000:]}")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[int], Prometheus]]:
    """Factory: `prometheus(target_port)` starts a server scraping 127.0.0.1:target_port."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(target_port: int) -> Prometheus:
        assert PROMETHEUS is not None
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: collector\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        )
        port = free_port()
        log = tmp_path / "prometheus.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={cfg}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--enable-feature=exemplar-storage",
                    "--log.level=warn",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        procs.append(proc)
        prom = Prometheus(proc, port, log)
        prom.wait_for(
            "prometheus ready",
            lambda: urllib.request.urlopen(f"{prom.url}/-/ready", timeout=2).status == 200,
        )
        return prom

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def collector_metrics() -> Iterator[tuple[DerivedMetrics, MetricsServer, Health]]:
    """The collector's real registry and endpoint, with the example's derived metrics."""
    derived = DerivedMetrics(example_config().derived, REGISTRY)
    health = Health(ready_window=60.0)
    server = MetricsServer(example_config_listen_loopback(), health, REGISTRY)
    server.start()
    yield derived, server, health
    server.stop()
    derived.close()


def example_config_listen_loopback() -> Any:
    import msgspec

    return msgspec.structs.replace(example_config(), listen="127.0.0.1:0")


def test_prometheus_scrapes_derived_metrics_from_simulated_logs(
    prometheus: Callable[[int], Prometheus],
    collector_metrics: tuple[DerivedMetrics, MetricsServer, Health],
) -> None:
    derived, server, _ = collector_metrics
    prom = prometheus(server.port)
    prom.wait_for("target up", lambda: prom.query("max by (job) (up)") == {"collector": 1.0})

    gen = PaymentLogs(seed=11)
    records: list[dict[str, Any]] = []
    for _ in range(3):  # the simulator keeps writing while Prometheus scrapes
        batch = [gen.record() for _ in range(400)]
        derived.observe("payments", batch)
        records.extend(batch)
        time.sleep(1.1)

    by_status: dict[str, float] = {}
    latencies: list[float] = []
    for r in records:
        if str(r.get("event", "")).startswith("payment."):
            status = r["payment"]["status"]
            by_status[status] = by_status.get(status, 0) + 1
            if r["event"] in ("payment.authorised", "payment.declined"):
                latencies.append(r["latency_ms"] / 1000)
    declines = by_status.get("declined", 0)
    five_xx = sum(
        1 for r in records if isinstance(r.get("http"), dict) and r["http"]["status"] >= 500
    )

    prom.wait_for(
        "payments_total by status",
        lambda: prom.query("sum by (status) (payments_total)") == by_status,
    )
    assert prom.query("sum(payment_declines_total)") == {"": declines}
    assert prom.query("sum(http_server_errors_total)") == {"": five_xx}
    assert prom.query("sum(payment_authorisation_duration_seconds_count)") == {
        "": float(len(latencies))
    }
    total = prom.query("sum(payment_authorisation_duration_seconds_sum)")[""]
    assert total == pytest.approx(sum(latencies), rel=1e-9)
    under_100ms = prom.query('sum(payment_authorisation_duration_seconds_bucket{le="0.1"})')[""]
    assert under_100ms == sum(1 for v in latencies if v <= 0.1)
    assert prom.query("max by (job) (up)") == {"collector": 1.0}


def test_prometheus_stores_trace_id_exemplars(
    prometheus: Callable[[int], Prometheus],
    collector_metrics: tuple[DerivedMetrics, MetricsServer, Health],
) -> None:
    derived, server, _ = collector_metrics
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    derived.observe(
        "payments",
        [
            {
                "event": "payment.authorised",
                "latency_ms": 3200,
                "trace_id": trace,
                "payment": {"status": "authorised", "method": "card"},
            }
        ],
    )
    prom = prometheus(server.port)

    def found() -> bool:
        now = time.time()
        data = prom.api(
            "query_exemplars",
            query="payment_authorisation_duration_seconds_bucket",
            start=str(now - 300),
            end=str(now + 60),
        )
        return any(
            e["labels"].get("trace_id") == trace for series in data for e in series["exemplars"]
        )

    prom.wait_for("the trace-id exemplar in Prometheus", found)
