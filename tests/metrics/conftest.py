"""Fixtures for the metrics tests: fresh registries, a running MetricsServer, scrapes."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from collector.config import validate
from collector.metrics.config import MetricsConfig
from collector.metrics.core import Registry
from collector.metrics.health import Health
from collector.metrics.server import READ_TIMEOUT, MetricsServer
from collector.units import dec_hook

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "metrics-example.yaml"
RULES = ROOT / "config" / "prometheus-rules.yaml"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS = shutil.which("prometheus")


def metrics_config(raw: dict[str, Any]) -> MetricsConfig:
    """Validate like the real config loader does, so errors read the same."""
    errors = validate(raw, MetricsConfig)
    assert not errors, errors
    return msgspec.convert(raw, MetricsConfig, dec_hook=dec_hook)


def example_config() -> MetricsConfig:
    raw = yaml.safe_load(EXAMPLE.read_text())["metrics"]
    return metrics_config(raw)


class Scrape(msgspec.Struct):
    status: int
    content_type: str
    body: str


def get(port: int, path: str, accept: str | None = None) -> Scrape:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Scrape(resp.status, resp.headers.get("Content-Type", ""), resp.read().decode())
    except urllib.error.HTTPError as e:
        return Scrape(e.code, e.headers.get("Content-Type", ""), e.read().decode())


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def serve() -> Iterator[Callable[..., MetricsServer]]:
    """Factory: `serve(registry, health=None, read_timeout=...)` starts a MetricsServer on a
    free loopback port."""
    started: list[MetricsServer] = []

    def start(
        registry: Registry, health: Health | None = None, read_timeout: float = READ_TIMEOUT
    ) -> MetricsServer:
        cfg = MetricsConfig(listen="127.0.0.1:0")
        server = MetricsServer(
            cfg, health or Health(ready_window=60.0), registry, read_timeout=read_timeout
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


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
        with urllib.request.urlopen(url, timeout=30) as resp:
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

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 120.0) -> None:
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
            lambda: urllib.request.urlopen(f"{prom.url}/-/ready", timeout=30).status == 200,
        )
        return prom

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
