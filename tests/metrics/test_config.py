"""`metrics:` validation: mistakes are config errors with a path, not silent gaps."""

from __future__ import annotations

from typing import Any

import pytest

from collector.config import validate
from collector.metrics.config import MetricsConfig
from tests.metrics.conftest import example_config


def errors(raw: dict[str, Any]) -> str:
    return "\n".join(validate(raw, MetricsConfig))


def metric(**kw: Any) -> dict[str, Any]:
    return {"derived": [{"name": "payments_total", "type": "counter", **kw}]}


def test_defaults() -> None:
    cfg = MetricsConfig()
    assert cfg.listen == "0.0.0.0:2020" and cfg.ready_window == 60.0 and cfg.live_window == 30.0
    assert cfg.textfile.interval == 15.0 and cfg.textfile.max_file_bytes == 1024 * 1024


def test_example_config_is_valid() -> None:
    cfg = example_config()
    names = {d.name for d in cfg.derived}
    assert {"payments_total", "payment_declines_total", "http_server_errors_total"} <= names
    hist = next(d for d in cfg.derived if d.type == "histogram")
    assert hist.exemplar_field == "trace_id" and hist.scale == 0.001


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (metric(name="9bad"), "not a valid Prometheus metric name"),
        (metric(name="collector_x_total"), "reserved"),
        (metric(type="histogram"), "field: required for a histogram"),
        (metric(type="gauge", field="x", name="g_total"), "only counters end in _total"),
        (metric(labels={"__x": "a"}), "not a valid Prometheus label name"),
        (metric(labels={"a-b": "a"}), "not a valid Prometheus label name"),
        (
            metric(type="histogram", field="x", name="h", labels={"le": "x"}),
            "reserved for histogram buckets",
        ),
        (metric(type="histogram", field="x", name="h", buckets=[1, 1]), "strictly increasing"),
        (metric(buckets=[1]), "only for histograms"),
        (metric(exemplar_field="trace_id"), "only histograms carry exemplars"),
        (metric(max_label_values=0), "at least 1"),
        (metric(scale=0), "non-zero"),
        (metric(match=[{"field": "x"}]), "at least one of equals, in, regex, exists"),
        (metric(match=[{"field": "x", "regex": "("}]), "regex does not compile"),
        (metric(match=[{"field": "x", "in": []}]), "needs at least one value"),
        (metric(match=[{"field": "x", "equal": 1}]), "unknown key"),
        ({"listen": "2020"}, "expected host:port"),
        (
            {"derived": [{"name": "a", "type": "counter"}, {"name": "a", "type": "counter"}]},
            "must be unique",
        ),
    ],
)
def test_invalid_configs_are_reported(raw: dict[str, Any], expected: str) -> None:
    assert expected in errors(raw)


def test_valid_listen_forms() -> None:
    for listen in ("0.0.0.0:2020", "[::]:2020", ":9100", "127.0.0.1:0"):
        assert errors({"listen": listen}) == "", listen
