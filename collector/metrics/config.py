"""Config of the metrics endpoint and the log-derived metrics (`metrics:`).

Everything that can be checked without records is checked here, so a typo in a metric
name, a label or a regex is a config error at start-up, not a silent gap on a dashboard.
"""

from __future__ import annotations

import math
import re
from typing import Literal

import msgspec

from collector.units import ByteSize, Seconds

# Prometheus data model: metric and label names.
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# prometheus_client's default histogram buckets, which suit request latency in seconds.
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

Scalar = str | int | float | bool


class MatchCondition(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A condition on one record field; all conditions of a metric must hold.

    Several tests in one condition must all hold too. Values are compared as text
    (`200` matches `"200"`, `true` matches `"true"`), because the same field is a number
    in a JSON log and a string in a logfmt one.
    """

    # The record field tested (a dotted path: `payment.method`).
    field: str
    # The field's value equals this.
    equals: Scalar | None = None
    # The field's value is one of these.
    in_: list[Scalar] | None = msgspec.field(default=None, name="in")
    regex: str | None = None  # searched (not anchored): use ^...$ to anchor
    # true: the field is present; false: it is absent.
    exists: bool | None = None

    def __post_init__(self) -> None:
        if not self.field:
            raise ValueError("field: must not be empty")
        if self.equals is None and self.in_ is None and self.regex is None and self.exists is None:
            raise ValueError(f"{self.field}: give at least one of equals, in, regex, exists")
        if self.exists is False and not (
            self.equals is None and self.in_ is None and self.regex is None
        ):
            raise ValueError(f"{self.field}: exists: false cannot be combined with other tests")
        if self.in_ is not None and not self.in_:
            raise ValueError(f"{self.field}: `in` needs at least one value")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as e:
                raise ValueError(f"{self.field}: regex does not compile: {e}") from None


class DerivedMetric(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A metric computed from records (after redaction), like mtail or log_to_metrics.

    counter: counts matching records, or adds `field * scale` when `field` is set.
    gauge: the last value of `field * scale` per label set.
    histogram: observes `field * scale` (e.g. `latency_ms` with scale 0.001 → seconds).
    """

    # The metric's name (Prometheus rules; the `collector_` prefix is ours).
    name: str
    # counter, gauge or histogram (see the class docstring).
    type: Literal["counter", "gauge", "histogram"]
    # The HELP text.
    help: str = ""
    field: str | None = None  # the numeric field (required for gauge / histogram)
    # The field's value is multiplied by this (0.001: milliseconds to seconds).
    scale: float = 1.0
    buckets: list[float] | None = None  # histogram only; default DEFAULT_BUCKETS
    labels: dict[str, str] = {}  # label name -> record field (dotted path)
    match: list[MatchCondition] = []
    sources: list[str] = []  # empty = every source
    exemplar_field: str | None = None  # histogram only: e.g. trace_id
    max_label_values: int = 100  # distinct values per label; beyond → "__overflow__"
    expire_after: Seconds = Seconds(600.0)  # a label set idle this long is dropped

    def __post_init__(self) -> None:
        errors: list[str] = []
        if not METRIC_NAME.match(self.name):
            errors.append("name: not a valid Prometheus metric name")
        elif self.name.startswith("collector_"):
            errors.append("name: the collector_ prefix is reserved for the collector's own metrics")
        if self.type == "histogram" and self.name.endswith(("_bucket", "_count", "_sum")):
            errors.append("name: a histogram name must not end in _bucket, _count or _sum")
        if self.type != "counter" and self.name.endswith("_total"):
            errors.append("name: only counters end in _total")
        if self.type in ("gauge", "histogram") and not self.field:
            errors.append(f"field: required for a {self.type}")
        if not math.isfinite(self.scale) or self.scale == 0:
            errors.append("scale: must be a finite, non-zero number")
        if self.buckets is not None:
            if self.type != "histogram":
                errors.append("buckets: only for histograms")
            elif not self.buckets or any(
                b >= c for b, c in zip(self.buckets, self.buckets[1:], strict=False)
            ):
                errors.append("buckets: must be a non-empty, strictly increasing list")
            elif any(math.isnan(b) for b in self.buckets):
                errors.append("buckets: NaN is not a bucket bound")
        reserved = {"le"} if self.type == "histogram" else set()
        for label, path in self.labels.items():
            if not LABEL_NAME.match(label) or label.startswith("__"):
                errors.append(f"labels.{label}: not a valid Prometheus label name")
            elif label in reserved:
                errors.append(f"labels.{label}: reserved for histogram buckets")
            if not path:
                errors.append(f"labels.{label}: the record field must not be empty")
        if self.exemplar_field is not None and self.type != "histogram":
            errors.append("exemplar_field: only histograms carry exemplars")
        if self.max_label_values < 1:
            errors.append("max_label_values: must be at least 1")
        if errors:
            raise ValueError(f"{self.name}: " + "; ".join(errors))


class TextfileConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """`*.prom` files on the shared volume, served with the collector's metrics."""

    paths: list[str] = []  # globs; empty = off
    interval: Seconds = Seconds(15.0)  # re-scan at most this often (on scrape)
    max_file_bytes: ByteSize = ByteSize(1024 * 1024)  # larger files are skipped, counted


class MetricsConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # Serve /metrics, /healthz and /readyz.
    enabled: bool = True
    # `/metrics` (Prometheus text; OpenMetrics when asked), `/healthz`, `/readyz`
    listen: str = "0.0.0.0:2020"
    # /readyz fails when chunks are pending and nothing was acked for this long.
    ready_window: Seconds = Seconds(60.0)
    # /healthz fails when the event loop has not beaten for this long.
    live_window: Seconds = Seconds(30.0)
    derived: list[DerivedMetric] = []
    textfile: TextfileConfig = msgspec.field(default_factory=TextfileConfig)

    def __post_init__(self) -> None:
        _host, sep, port = self.listen.rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535:
            raise ValueError("listen: expected host:port, e.g. 0.0.0.0:2020 or [::]:2020")
        names = [d.name for d in self.derived]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"derived: metric names must be unique ({', '.join(dupes)})")
