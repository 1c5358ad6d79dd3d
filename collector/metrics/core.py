"""The metric data model and the registry, without prometheus_client.

prometheus_client is ~4 MiB of RSS on its own and imports `ssl`, `http.server`, `wsgiref`,
`urllib` and `email` unconditionally (docs/decisions.md, "The collector's own metrics
without prometheus_client"). These few types are all the collector needs of it, and they
keep prometheus_client's attribute names (`Family.name/.type/.documentation/.unit/.samples`,
`Sample.name/.labels/.value/.timestamp/.exemplar`) so that one exposition writer serves our
families and the ones prometheus_client's parsers return for textfiles alike, and so that
prometheus_client's own writer can render ours in the tests (an independent reference).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple, Protocol


class Exemplar(NamedTuple):
    labels: dict[str, str]
    value: float
    timestamp: float | None = None


class Sample(NamedTuple):
    name: str
    labels: dict[str, str]
    value: float
    timestamp: float | None = None
    exemplar: Exemplar | None = None
    native_histogram: None = None  # never set; prometheus_client's writers read it


class Family:
    """One metric family and its samples (prometheus_client's `Metric`)."""

    __slots__ = ("documentation", "name", "samples", "type", "unit")

    def __init__(self, name: str, documentation: str, typ: str, unit: str = "") -> None:
        self.name = name
        self.documentation = documentation
        self.type = typ
        self.unit = unit
        self.samples: list[Sample] = []

    def add_sample(
        self,
        name: str,
        labels: dict[str, str],
        value: float,
        timestamp: float | None = None,
        exemplar: Exemplar | None = None,
    ) -> None:
        self.samples.append(Sample(name, labels, value, timestamp, exemplar))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Family) and (
            self.name,
            self.documentation,
            self.type,
            self.unit,
            self.samples,
        ) == (other.name, other.documentation, other.type, other.unit, other.samples)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Family({self.name!r}, {self.type!r}, {self.samples!r})"


class Collector(Protocol):
    def collect(self) -> Iterable[Any]: ...


def go_float(d: float) -> str:
    """A float as Go (and so Prometheus) writes it: `+Inf`, `NaN`, `1e+06`, `0.25`."""
    d = float(d)
    if d == math.inf:
        return "+Inf"
    if d == -math.inf:
        return "-Inf"
    if math.isnan(d):
        return "NaN"
    s = repr(d)
    dot = s.find(".")
    # Go switches to exponents sooner than Python (only positive values matter: le).
    if d > 0 and dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return s


# The sample names a family of each type produces besides its own name, which another
# collector must not produce as well (Prometheus would see two series with one name).
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}


class Registry:
    """Collectors, each with the names it produces; `collect` yields their families in
    registration order.

    A collector's names come from its `describe()` if it has one, else from a `collect()`
    at registration (prometheus_client's `auto_describe=True`, which the collector's
    registry always used). Registering a name twice raises ValueError.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._collectors: dict[Collector, list[str]] = {}
        self._names: dict[str, Collector] = {}

    def register(self, collector: Collector) -> None:
        describe = getattr(collector, "describe", None) or collector.collect
        names = [n for f in describe() for n in (f.name, *(f.name + s for s in _suffixes(f)))]
        with self._lock:
            clash = set(self._names).intersection(names)
            if clash:
                raise ValueError(f"Duplicated timeseries in CollectorRegistry: {clash}")
            for name in names:
                self._names[name] = collector
            self._collectors[collector] = names

    def unregister(self, collector: Collector) -> None:
        with self._lock:
            for name in self._collectors.pop(collector):
                del self._names[name]

    def names(self) -> frozenset[str]:
        """Every name registered, with the sample-name forms of each family."""
        with self._lock:
            return frozenset(self._names)

    def collect(self) -> Iterator[Any]:
        with self._lock:
            collectors = list(self._collectors)
        for collector in collectors:
            yield from collector.collect()

    def restricted_registry(self, names: Iterable[str]) -> Restricted:
        """The view `?name[]=` scrapes read: only samples with one of these names."""
        return Restricted(self, frozenset(names))

    def get_sample_value(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """The value of one sample, or None (slow: for tests)."""
        labels = labels or {}
        for family in self.collect():
            for s in family.samples:
                if s.name == name and s.labels == labels:
                    return float(s.value)
        return None


def _suffixes(family: Any) -> tuple[str, ...]:
    return _SUFFIXES.get(family.type, ())


class Restricted:
    """A registry's families cut down to the samples named (families left empty go)."""

    def __init__(self, registry: Registry, names: frozenset[str]) -> None:
        self._registry = registry
        self._names = names

    def collect(self) -> Iterator[Family]:
        registry, names = self._registry, self._names
        with registry._lock:
            wanted = {registry._names[n] for n in names if n in registry._names}
            collectors = [c for c in registry._collectors if c in wanted]
        for collector in collectors:
            for family in collector.collect():
                samples = [s for s in family.samples if s.name in names]
                if samples:
                    out = Family(family.name, family.documentation, family.type)
                    out.samples = samples
                    yield out
