"""Counter, Gauge, Histogram and Info: the instruments the stages update.

The call API is prometheus_client's (`labels(...)`, `inc`, `dec`, `set`, `set_function`,
`observe`, `info`, `remove`, `clear`), so the stages, and the tests that hand them
prometheus_client's own counters, need no change; so are the samples collected (`_total`
and `_created` for counters, `_bucket`/`_count`/`_sum`/`_created` for histograms, `_info`).

Thread safety is prometheus_client's: stages update from the event loop while the scrape
thread collects, so each update holds a lock. One lock per metric, shared by its label
sets (prometheus_client has one per value): the collector's updates are per batch, never
contended, and a lock per series would only cost memory. Stages keep the child that
`labels()` returns for their hot path, which skips the label lookup.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from collector.metrics.core import Family, Sample, go_float

Labels = tuple[str, ...]


class _Metric:
    """A metric and its label sets; without label names, the metric is its own one series."""

    _type = ""
    _suffix = ""  # the exposed name is `name + _suffix` (docs, tests: `collector_x_total`)

    def __init__(
        self, name: str, documentation: str, labelnames: Iterable[str] = (), registry: Any = None
    ) -> None:
        if self._type == "counter" and name.endswith("_total"):
            name = name[:-6]  # OpenMetrics names the family without it
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._lock = threading.Lock()
        self._children: dict[Labels, Any] = {}
        self._own = None if self._labelnames else self._child(())
        if self._own is not None:  # its methods as the metric's own: no lookup per call
            own = self._own
            self.__dict__.update(
                {n: getattr(own, n) for n in dir(own) if n[0] != "_" and n != "samples"}
            )
        if registry is not None:
            registry.register(self)

    def _child(self, values: Labels) -> Any:
        raise NotImplementedError

    def labels(self, *values: object, **by_name: object) -> Any:
        """The series of these label values (created at first use)."""
        if not self._labelnames:
            raise ValueError(f"No label names were set when constructing {self._name}")
        if values and by_name:
            raise ValueError("Can't pass both *args and **kwargs")
        if by_name:
            if sorted(by_name) != sorted(self._labelnames):
                raise ValueError("Incorrect label names")
            key = tuple(str(by_name[n]) for n in self._labelnames)
        elif len(values) != len(self._labelnames):
            raise ValueError("Incorrect label count")
        else:
            key = tuple(str(v) for v in values)
        child = self._children.get(key)
        if child is None:
            with self._lock:
                child = self._children.get(key)
                if child is None:
                    child = self._children[key] = self._child(key)
        return child

    def remove(self, *values: object) -> None:
        if len(values) != len(self._labelnames):
            raise ValueError(f"Incorrect label count (expected {len(self._labelnames)})")
        with self._lock:
            self._children.pop(tuple(str(v) for v in values), None)

    def clear(self) -> None:
        with self._lock:
            self._children = {}

    def describe(self) -> list[Family]:
        return [Family(self._name, self._documentation, self._type)]

    def collect(self) -> list[Family]:
        family = Family(self._name, self._documentation, self._type)
        if self._own is not None:
            series: list[tuple[Labels, Any]] = [((), self._own)]
        else:
            with self._lock:
                series = list(self._children.items())
        names = self._labelnames
        for key, child in series:
            labels = dict(zip(names, key, strict=True))
            for suffix, extra, value in child.samples():
                full = {**labels, **extra} if extra else labels
                family.samples.append(Sample(self._name + suffix, full, value))
        return [family]

    def __getattr__(self, attr: str) -> Any:
        """`inc`, `set`, `observe`... on a metric without labels act on its one series
        (bound in __init__; this says so to the type checker, and refuses the rest)."""
        own = self.__dict__.get("_own")
        if own is None:
            raise AttributeError(attr)
        return getattr(own, attr)


Samples = Sequence[tuple[str, dict[str, str], float]]


class _CounterValue:
    __slots__ = ("_created", "_lock", "_value")

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._value = 0.0
        self._created = time.time()

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        with self._lock:
            self._value += amount

    def samples(self) -> Samples:
        return (("_total", {}, self._value), ("_created", {}, self._created))


class Counter(_Metric):
    _type = "counter"
    _suffix = "_total"

    def _child(self, values: Labels) -> _CounterValue:
        return _CounterValue(self._lock)


class _GaugeValue:
    __slots__ = ("_function", "_lock", "_value")

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._value = 0.0
        self._function: Callable[[], float] | None = None

    def inc(self, amount: float = 1) -> None:
        with self._lock:
            self._value += amount

    def dec(self, amount: float = 1) -> None:
        with self._lock:
            self._value -= amount

    def set(self, value: float) -> None:
        self._value = float(value)  # one store: atomic

    def set_to_current_time(self) -> None:
        self.set(time.time())

    def set_function(self, f: Callable[[], float]) -> None:
        """Read the value from `f` at each scrape (on the scrape thread)."""
        self._function = f

    def samples(self) -> Samples:
        f = self._function
        return (("", {}, float(f()) if f is not None else self._value),)


class Gauge(_Metric):
    _type = "gauge"

    def _child(self, values: Labels) -> _GaugeValue:
        return _GaugeValue(self._lock)


class _HistogramValue:
    __slots__ = ("_bounds", "_counts", "_created", "_les", "_lock", "_sum")

    def __init__(self, lock: threading.Lock, bounds: list[float], les: list[str]) -> None:
        self._lock = lock
        self._bounds = bounds
        self._les = les
        self._counts = [0.0] * len(bounds)
        self._sum = 0.0
        self._created = time.time()

    def observe(self, amount: float) -> None:
        i = bisect.bisect_left(self._bounds, amount)  # the first bound >= amount
        with self._lock:
            self._sum += amount
            if amount == amount:  # NaN falls in no bucket (as in prometheus_client)
                self._counts[i] += 1

    def samples(self) -> Samples:
        with self._lock:
            counts, total = list(self._counts), self._sum
        out: list[tuple[str, dict[str, str], float]] = []
        acc = 0.0
        for le, n in zip(self._les, counts, strict=True):
            acc += n
            out.append(("_bucket", {"le": le}, acc))
        out.append(("_count", {}, acc))
        if self._bounds[0] >= 0:  # no _sum when observations may be negative (OpenMetrics)
            out.append(("_sum", {}, total))
        out.append(("_created", {}, self._created))
        return out


class Histogram(_Metric):
    _type = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        registry: Any = None,
        buckets: Sequence[float] = (),
    ) -> None:
        bounds = sorted(float(b) for b in buckets)
        if bounds != [float(b) for b in buckets]:
            raise ValueError("Buckets not in sorted order")
        if not bounds or bounds[-1] != math.inf:
            bounds.append(math.inf)
        if len(bounds) < 2:
            raise ValueError("Must have at least two buckets")
        self._bounds = bounds
        self._les = [go_float(b) for b in bounds]
        super().__init__(name, documentation, labelnames, registry)

    def _child(self, values: Labels) -> _HistogramValue:
        return _HistogramValue(self._lock, self._bounds, self._les)


class _InfoValue:
    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: dict[str, str] = {}

    def info(self, value: dict[str, str]) -> None:
        if any(v is None for v in value.values()):
            raise ValueError("Label value cannot be None")
        self._value = dict(value)

    def samples(self) -> Samples:
        return (("_info", self._value, 1.0),)


class Info(_Metric):
    _type = "info"
    _suffix = "_info"

    def _child(self, values: Labels) -> _InfoValue:
        return _InfoValue()


def exposed_name(metric: _Metric) -> str:
    """The name as scraped in the classic text format (`collector_lines_read_total`)."""
    return metric._name + metric._suffix


def label_names(metric: _Metric) -> tuple[str, ...]:
    return metric._labelnames
