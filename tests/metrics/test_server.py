"""The HTTP endpoints, scraped over a real socket; promtool checks the exposition."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from collector.derived import DerivedMetrics
from collector.metrics.config import DerivedMetric, MetricsConfig, TextfileConfig
from collector.metrics.core import Registry
from collector.metrics.health import Health
from collector.metrics.internal import (
    CHUNKS_FAILED,
    DELIVERY_LATENCY,
    LINES_READ,
    REDACTIONS,
    REGISTRY,
    SERVER_UP,
)
from collector.metrics.server import MetricsServer, split_listen
from collector.metrics.textfile import TextfileCollector
from tests.metrics.conftest import OPENMETRICS, example_config, get

Serve = Callable[..., MetricsServer]
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")

LATENCY = DerivedMetric(
    name="auth_seconds",
    type="histogram",
    field="latency_ms",
    scale=0.001,
    exemplar_field="trace_id",
    labels={"method": "payment.method"},
)


@pytest.fixture
def full_registry(tmp_path: Path) -> Iterator[Registry]:
    """The collector's real registry with the example's derived metrics and a textfile."""
    (tmp_path / "svc.prom").write_text(
        "# HELP svc_queue_jobs Jobs waiting.\n# TYPE svc_queue_jobs gauge\nsvc_queue_jobs 4\n"
    )
    derived = DerivedMetrics(example_config().derived, REGISTRY)
    textfile = TextfileCollector(TextfileConfig(paths=[str(tmp_path / "*.prom")]), REGISTRY)
    from tools.simulator import PaymentLogs

    gen = PaymentLogs(seed=3)
    derived.observe("payments", [gen.record() for _ in range(500)])
    LINES_READ.labels("payments").inc(500)
    REDACTIONS.labels("pan").inc(5)
    CHUNKS_FAILED.labels("127.0.0.1:24224", "connect").inc()
    SERVER_UP.labels("127.0.0.1:24224").set(1)
    DELIVERY_LATENCY.observe(0.02)
    yield REGISTRY
    derived.close()
    textfile.close()


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )


@needs_promtool
def test_promtool_accepts_the_collectors_metrics(serve: Serve, full_registry: Registry) -> None:
    server = serve(full_registry)
    scrape = get(server.port, "/metrics")
    assert scrape.status == 200 and scrape.content_type.startswith("text/plain")
    for name in (
        "collector_lines_read_total",
        "payments_total",
        "svc_queue_jobs",
        "payment_authorisation_duration_seconds_bucket",
        "process_cpu_seconds_total",
    ):
        assert f"\n{name}" in scrape.body, name
    result = promtool_check(scrape.body)
    assert result.returncode == 0, result.stdout + result.stderr


def test_openmetrics_scrape_carries_trace_id_exemplar(serve: Serve, registry: Registry) -> None:
    d = DerivedMetrics([LATENCY], registry)
    d.observe(
        "app",
        [
            {
                "latency_ms": 420,
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "payment": {"method": "card"},
            }
        ],
    )
    server = serve(registry)
    scrape = get(server.port, "/metrics", accept=OPENMETRICS)
    assert scrape.content_type.startswith("application/openmetrics-text")
    assert scrape.body.endswith("# EOF\n")
    line = next(
        ln for ln in scrape.body.splitlines() if ln.startswith('auth_seconds_bucket{le="0.5"')
    )
    assert '# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.42' in line
    families = {f.name: f for f in text_string_to_metric_families(scrape.body)}
    assert families["auth_seconds"].type == "histogram"
    # The classic text format has no exemplars and stays valid for old scrapers.
    assert "trace_id" not in get(server.port, "/metrics").body


def test_openmetrics_exposition_parses_strictly(serve: Serve, full_registry: Registry) -> None:
    """promtool only lints the classic format; the strict OpenMetrics parser checks this one
    (and the end-to-end test has Prometheus itself scrape it)."""
    server = serve(full_registry)
    scrape = get(server.port, "/metrics", accept=OPENMETRICS)
    names = {f.name for f in text_string_to_metric_families(scrape.body)}
    assert {"payments", "payment_authorisation_duration_seconds", "svc_queue_jobs"} <= names


def test_readyz_flips_with_health_over_http(serve: Serve, registry: Registry) -> None:
    now = [0.0]
    health = Health(ready_window=10.0, clock=lambda: now[0])
    server = serve(registry, health)
    assert get(server.port, "/readyz").status == 503
    health.config_loaded = health.sources_open = True
    assert get(server.port, "/readyz").status == 200
    health.set_pending(2)
    now[0] += 11
    down = get(server.port, "/readyz")
    assert down.status == 503 and "pending" in down.body
    health.delivered()
    assert get(server.port, "/readyz").status == 200


def test_healthz_reports_a_stalled_loop(serve: Serve, registry: Registry) -> None:
    now = [0.0]
    health = Health(ready_window=10.0, live_window=5.0, clock=lambda: now[0])
    server = serve(registry, health)
    assert get(server.port, "/healthz").status == 200
    now[0] += 6
    assert get(server.port, "/healthz").status == 503
    health.beat()
    assert get(server.port, "/healthz").status == 200


def test_unknown_path_is_404_and_post_is_refused(serve: Serve, registry: Registry) -> None:
    server = serve(registry)
    assert get(server.port, "/nope").status == 404
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/metrics", data=b"x")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 405


def test_stop_frees_the_port(registry: Registry) -> None:
    server = MetricsServer(MetricsConfig(listen="127.0.0.1:0"), Health(60.0), registry)
    server.start()
    port = server.port
    server.stop()
    again = MetricsServer(MetricsConfig(listen=f"127.0.0.1:{port}"), Health(60.0), registry)
    again.start()
    assert again.port == port
    again.stop()


def test_listen_forms() -> None:
    assert split_listen("0.0.0.0:2020") == ("0.0.0.0", 2020)
    assert split_listen("[::1]:9") == ("::1", 9)
    assert split_listen(":2020") == ("0.0.0.0", 2020)


def test_server_serves_the_configured_textfiles_while_running(
    tmp_path: Path, registry: Registry
) -> None:
    (tmp_path / "svc.prom").write_text("# TYPE svc_jobs gauge\nsvc_jobs 2\n")
    cfg = MetricsConfig(
        listen="127.0.0.1:0", textfile=TextfileConfig(paths=[str(tmp_path / "*.prom")])
    )
    server = MetricsServer(cfg, Health(60.0), registry)
    server.start()
    try:
        assert "\nsvc_jobs 2.0\n" in get(server.port, "/metrics").body
    finally:
        server.stop()
    assert not any(f.name == "svc_jobs" for f in registry.collect())


def test_label_values_are_redacted_on_the_way_out(registry: Registry) -> None:
    from collector.metrics.instruments import Gauge
    from collector.redact import Redactor
    from collector.redact.config import RedactConfig

    pan, other = "4111" + "1111" + "1111" + "1111", "4111" + "1110" + "0007" + "1111"
    lag = Gauge("lag_bytes", "Lag.", ["file"], registry=registry)
    lag.labels(f"/logs/card-{pan}.log").set(3)
    lag.labels(f"/logs/card-{other}.log").set(4)  # masks to the same text as the first
    lag.labels("/logs/app.log").set(5)
    cfg = MetricsConfig(listen="127.0.0.1:0")
    server = MetricsServer(
        cfg, Health(ready_window=60.0), registry, Redactor(RedactConfig()).redact_text
    )
    server.start()
    try:
        for path in ("/metrics", "/metrics?name[]=lag_bytes"):
            body = get(server.port, path).body
            leaked = pan in body or other in body  # a bool: a failure never prints them
            assert not leaked, "a card number in a label value reached /metrics"
            families = list(text_string_to_metric_families(body.replace("# EOF", "") + "# EOF\n"))
            values = {
                s.labels["file"]: s.value
                for f in families
                if f.name == "lag_bytes"
                for s in f.samples
            }
            assert values["/logs/app.log"] == 5
            masked = [v for k, v in values.items() if k.startswith("/logs/card-")]
            assert masked == [7], "two series with one label set: Prometheus would reject both"
    finally:
        server.stop()


def test_idle_and_trickling_clients_are_cut_off_at_the_read_timeout(
    serve: Serve, registry: Registry
) -> None:
    """The timeout bounds the whole request, not each read: a byte every 0.2 s is no escape."""
    import socket
    import time

    server = serve(registry, read_timeout=0.5)
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as idle:
        start = time.monotonic()
        closed = idle.recv(1) == b""  # blocks until the server hangs up (or 60 s pass)
        assert closed and time.monotonic() - start < 60
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
        start = time.monotonic()
        with contextlib.suppress(OSError):
            for byte in b"GET /metrics HTTP/1.1\r\nX-Slow: " + b"x" * 100:
                slow.sendall(bytes([byte]))
                time.sleep(0.2)
        assert time.monotonic() - start < 10
    assert get(server.port, "/healthz").status in (200, 503), "server still serves"


def test_the_listen_backlog_is_not_five(serve: Serve, registry: Registry) -> None:
    server = serve(registry)
    ss = shutil.which("ss")
    if ss is None:
        pytest.skip("ss (iproute2) not installed")
    out = subprocess.run(
        [ss, "-Hltn", f"sport = :{server.port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    # a listening socket's Send-Q column is its backlog
    assert int(out[2]) >= 128, out


def raw(port: int, request: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_malformed_and_oversized_requests_are_refused(serve: Serve, registry: Registry) -> None:
    server = serve(registry)
    assert raw(server.port, b"nonsense\r\n\r\n").startswith(b"HTTP/1.0 400 ")
    assert raw(server.port, b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n").startswith(
        b"HTTP/1.0 400 "
    )
    huge = b"GET /metrics HTTP/1.1\r\nX-Big: " + b"x" * 70_000 + b"\r\n\r\n"
    assert raw(server.port, huge).startswith(b"HTTP/1.0 431 ")
    assert raw(server.port, b"GET /" + b"x" * 70_000).startswith(b"HTTP/1.0 414 ")
    assert get(server.port, "/healthz").status == 200, "still serving"


def test_responses_are_http_1_0_with_length_and_the_path_is_percent_decoded(
    serve: Serve, registry: Registry
) -> None:
    server = serve(registry)
    reply = raw(server.port, b"GET /heal%74hz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.0 200 OK"
    assert "Content-Type: text/plain; charset=utf-8" in lines
    assert f"Content-Length: {len(body)}" in lines
    assert any(line.startswith("Date: ") and line.endswith(" GMT") for line in lines)
    assert body == b"ok\n"


def test_a_failing_collector_gives_500_and_the_server_keeps_serving(
    serve: Serve, registry: Registry
) -> None:
    class Broken:
        def describe(self) -> list[object]:
            return []

        def collect(self) -> list[object]:
            raise RuntimeError("boom")

    registry.register(Broken())
    server = serve(registry)
    assert get(server.port, "/metrics").status == 500
    assert get(server.port, "/healthz").status == 200


def test_an_idle_server_does_not_wake_up(serve: Serve, registry: Registry) -> None:
    """The accept thread blocks: no poll timer (socketserver's 0.5 s) wakes an idle pod."""
    import threading
    import time

    serve(registry)
    (thread,) = [t for t in threading.enumerate() if t.name == "metrics-http"]

    def switches() -> int:
        status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
        return sum(
            int(line.split()[1])
            for line in status.splitlines()
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
        )

    time.sleep(0.2)
    before = switches()
    time.sleep(1.5)
    assert switches() - before <= 1
