"""Config of the metrics endpoint and the log-derived metrics (`metrics:`)."""

from __future__ import annotations

from typing import Literal

import msgspec

from collector.units import Seconds


class MatchCondition(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A condition on one record field; all conditions of a metric must hold."""

    field: str
    equals: str | int | float | bool | None = None
    in_: list[str | int | float | bool] | None = msgspec.field(default=None, name="in")
    regex: str | None = None
    exists: bool | None = None


class DerivedMetric(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A metric computed from records (after redaction), like mtail or log_to_metrics."""

    name: str
    type: Literal["counter", "gauge", "histogram"]
    help: str = ""
    field: str | None = None  # the numeric field for gauge / histogram
    scale: float = 1.0
    buckets: list[float] | None = None
    labels: dict[str, str] = {}  # label name -> record field (dotted path)
    match: list[MatchCondition] = []
    sources: list[str] = []  # empty = every source
    exemplar_field: str | None = None
    max_label_values: int = 100
    expire_after: Seconds = Seconds(600.0)


class TextfileConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    paths: list[str] = []
    interval: Seconds = Seconds(15.0)


class MetricsConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    enabled: bool = True
    listen: str = "0.0.0.0:2020"
    ready_window: Seconds = Seconds(60.0)
    derived: list[DerivedMetric] = []
    textfile: TextfileConfig = msgspec.field(default_factory=TextfileConfig)
