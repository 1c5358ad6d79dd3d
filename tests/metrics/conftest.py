"""Fixtures for the metrics tests: fresh registries, a running MetricsServer, scrapes."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from prometheus_client import CollectorRegistry

from collector.config import validate
from collector.metrics.config import MetricsConfig
from collector.metrics.health import Health
from collector.metrics.server import MetricsServer
from collector.units import dec_hook

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "metrics-example.yaml"
RULES = ROOT / "config" / "prometheus-rules.yaml"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


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
        with urllib.request.urlopen(req, timeout=5) as resp:
            return Scrape(resp.status, resp.headers.get("Content-Type", ""), resp.read().decode())
    except urllib.error.HTTPError as e:
        return Scrape(e.code, e.headers.get("Content-Type", ""), e.read().decode())


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def serve() -> Iterator[Callable[..., MetricsServer]]:
    """Factory: `serve(registry, health=None)` starts a MetricsServer on a free loopback port."""
    started: list[MetricsServer] = []

    def start(registry: CollectorRegistry, health: Health | None = None) -> MetricsServer:
        cfg = MetricsConfig(listen="127.0.0.1:0")
        server = MetricsServer(cfg, health or Health(ready_window=60.0), registry)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
