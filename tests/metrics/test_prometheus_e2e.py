"""A real Prometheus scrapes a MetricsServer fed with simulated payment logs.

Debian's `prometheus` runs on loopback with its TSDB in a temp dir, scraping every second
with exemplar storage on; the test asks its HTTP API what it stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from collector.derived import DerivedMetrics
from collector.metrics.health import Health
from collector.metrics.internal import REGISTRY
from collector.metrics.server import MetricsServer
from tests.metrics.conftest import PROMETHEUS, Prometheus, example_config
from tools.simulator import PaymentLogs

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed"),
]


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
