"""The derived-metrics stage: redacted records -> business metrics (counters, gauges,
histograms), configured under `metrics.derived`.

One custom collector holds every derived series in plain dicts: an observation costs a
few dict operations and no per-series lock (one lock per batch guards against the
scrape thread). Cardinality is bounded per label: past `max_label_values` distinct
values, new values become `__overflow__` and are counted, and series idle for
`expire_after` are dropped, which frees their label values again.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from collector.metrics.config import DEFAULT_BUCKETS, DerivedMetric, MatchCondition
from collector.metrics.core import Exemplar, Family, Registry, Sample, go_float
from collector.metrics.internal import (
    DERIVED_LABEL_OVERFLOW,
    DERIVED_RECORDS_SKIPPED,
    DERIVED_SERIES,
    REGISTRY,
)

OVERFLOW = "__overflow__"
EXEMPLAR_LABEL = "trace_id"
MAX_LABEL_VALUE_CHARS = 128  # longer label values are cut: a label is not a log line
# OpenMetrics caps an exemplar's label set at 128 characters (names plus values).
_MAX_EXEMPLAR_VALUE_CHARS = 128 - len(EXEMPLAR_LABEL)

_MISSING: Any = object()
Record = dict[str, Any]
Getter = Callable[[Record], Any]


def field_getter(path: str) -> Getter:
    """Read a dotted path: the literal key first (logfmt's `http.status=500` is one key),
    then the nested walk (`{"http": {"status": 500}}`)."""
    missing = _MISSING
    if "." not in path:
        return lambda r: r.get(path, missing)
    parts = tuple(path.split("."))
    if len(parts) == 2:  # the usual `payment.status`: no loop
        outer, inner = parts

        def get2(r: Record) -> Any:
            v = r.get(path, missing)
            if v is missing:
                node = r.get(outer)
                return node.get(inner, missing) if type(node) is dict else missing
            return v

        return get2

    def get(r: Record) -> Any:
        v = r.get(path, _MISSING)
        if v is not _MISSING:
            return v
        node: Any = r
        for p in parts:
            if not isinstance(node, dict):
                return _MISSING
            node = node.get(p, _MISSING)
            if node is _MISSING:
                return _MISSING
        return node

    return get


def as_text(v: Any) -> str:
    """The one text form of a field value, for conditions and label values alike."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return ""  # missing, null, maps and lists: no meaningful label value


def label_value(v: Any) -> str:
    if type(v) is str:
        return v[:MAX_LABEL_VALUE_CHARS] if len(v) > MAX_LABEL_VALUE_CHARS else v
    return as_text(v)[:MAX_LABEL_VALUE_CHARS]


def key_function(getters: list[Getter]) -> Callable[[Record], tuple[str, ...]]:
    """The label values of a record as a tuple (specialised for the usual 0-2 labels)."""
    if not getters:
        return lambda r: ()
    if len(getters) == 1:
        (g0,) = getters
        return lambda r: (label_value(g0(r)),)
    if len(getters) == 2:
        g0, g1 = getters
        return lambda r: (label_value(g0(r)), label_value(g1(r)))
    return lambda r: tuple([label_value(g(r)) for g in getters])


def as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def compile_condition(c: MatchCondition) -> Callable[[Record], object]:
    """All tests of one condition as one predicate (truthy when the record matches).

    Hot path: a string value (the common case) is tested without conversion.
    """
    get = field_getter(c.field)
    if c.exists is False:
        return lambda r: get(r) is _MISSING
    tests: list[Callable[[str], object]] = []
    if c.equals is not None:
        tests.append(as_text(c.equals).__eq__)
    if c.in_ is not None:
        tests.append(frozenset(as_text(x) for x in c.in_).__contains__)
    if c.regex is not None:
        tests.append(re.compile(c.regex).search)
    if not tests:  # exists: true alone
        return lambda r: get(r) is not _MISSING
    test = tests[0] if len(tests) == 1 else (lambda t: all(f(t) for f in tests))

    def check(r: Record) -> object:
        v = get(r)
        if type(v) is str:
            return test(v)
        return v is not _MISSING and test(as_text(v))

    return check


def _all_of(preds: list[Callable[[Record], object]]) -> Callable[[Record], object] | None:
    if not preds:
        return None
    if len(preds) == 1:
        return preds[0]
    return lambda r: all(p(r) for p in preds)


class _Series:
    __slots__ = ("counts", "exemplars", "last", "sum", "value")

    def __init__(self, nbuckets: int) -> None:
        self.value = 0.0  # counter total / gauge value / histogram count
        self.sum = 0.0
        self.counts: list[int] = [0] * nbuckets if nbuckets else []
        self.exemplars: list[tuple[str, float, float] | None] = (
            [None] * nbuckets if nbuckets else []
        )
        self.last = 0.0


class _Plan:
    """One configured metric: its predicates, getters, bounds and live series."""

    def __init__(self, cfg: DerivedMetric) -> None:
        self.cfg = cfg
        self.kind = cfg.type
        self.family = cfg.name[:-6] if cfg.name.endswith("_total") else cfg.name
        self.help = cfg.help or f"Derived from log records ({cfg.type})."
        self.match = _all_of([compile_condition(c) for c in cfg.match])
        self.label_names = list(cfg.labels)
        self.key_of = key_function([field_getter(p) for p in cfg.labels.values()])
        self.value_getter = field_getter(cfg.field) if cfg.field else None
        self.scale = cfg.scale
        self.bounds = list(cfg.buckets or DEFAULT_BUCKETS) if cfg.type == "histogram" else []
        if self.bounds and self.bounds[-1] == math.inf:
            self.bounds.pop()
        self.nbuckets = len(self.bounds) + 1 if cfg.type == "histogram" else 0
        self.exemplar_getter = field_getter(cfg.exemplar_field) if cfg.exemplar_field else None
        self.cap = cfg.max_label_values
        self.expire_after = float(cfg.expire_after)
        self.series: dict[tuple[str, ...], _Series] = {}
        # Per label: value -> number of live series using it; its size is what the cap bounds.
        self.in_use: list[dict[str, int]] = [{} for _ in self.label_names]

    def observe(self, records: Iterable[Record], now: float) -> None:
        match, key_of, value_getter = self.match, self.key_of, self.value_getter
        series, scale, kind = self.series, self.scale, self.kind
        overflowed = [0] * len(self.label_names)
        skipped: dict[str, int] = {}
        for r in records:
            if match is not None and not match(r):
                continue
            if value_getter is not None:
                raw = value_getter(r)
                num = as_number(raw)
                if num is None:
                    reason = "missing_field" if raw is _MISSING else "not_numeric"
                    skipped[reason] = skipped.get(reason, 0) + 1
                    continue
                num *= scale
                if kind == "counter" and num < 0:
                    skipped["negative"] = skipped.get("negative", 0) + 1
                    continue
            else:
                num = 1.0
            key = key_of(r)
            s = series.get(key)
            if s is None:
                key = self._admit(key, overflowed)
                s = series.get(key)
                if s is None:
                    s = series[key] = _Series(self.nbuckets)
                    for i, v in enumerate(key):
                        use = self.in_use[i]
                        use[v] = use.get(v, 0) + 1
            s.last = now
            if kind == "counter":
                s.value += num
            elif kind == "gauge":
                s.value = num
            else:
                i = bisect.bisect_left(self.bounds, num)
                s.counts[i] += 1
                s.value += 1
                s.sum += num
                if self.exemplar_getter is not None:
                    trace = as_text(self.exemplar_getter(r))
                    if trace and len(trace) <= _MAX_EXEMPLAR_VALUE_CHARS:
                        s.exemplars[i] = (trace, num, now)
        name = self.cfg.name
        for i, n in enumerate(overflowed):
            if n:
                DERIVED_LABEL_OVERFLOW.labels(name, self.label_names[i]).inc(n)
        for reason, n in skipped.items():
            DERIVED_RECORDS_SKIPPED.labels(name, reason).inc(n)
        DERIVED_SERIES.labels(name).set(len(series))

    def _admit(self, key: tuple[str, ...], overflowed: list[int]) -> tuple[str, ...]:
        """Replace each label value beyond its cap by OVERFLOW (and count it)."""
        out = list(key)
        for i, v in enumerate(key):
            use = self.in_use[i]
            if v not in use and len(use) - (OVERFLOW in use) >= self.cap:
                out[i] = OVERFLOW
                overflowed[i] += 1
        return tuple(out)

    def expire(self, now: float) -> None:
        cutoff = now - self.expire_after
        idle = [k for k, s in self.series.items() if s.last < cutoff]
        for key in idle:
            del self.series[key]
            for i, v in enumerate(key):
                use = self.in_use[i]
                left = use[v] - 1
                if left:
                    use[v] = left
                else:
                    del use[v]
        if idle:
            DERIVED_SERIES.labels(self.cfg.name).set(len(self.series))

    def family_metric(self, with_samples: bool = True) -> Family:
        """The family as exposed (what prometheus_client's *MetricFamily classes built)."""
        family = Family(self.family, self.help, self.kind)
        series = self.series.items() if with_samples else ()
        names, add = self.label_names, family.samples.append
        if self.kind != "histogram":
            name = self.family + "_total" if self.kind == "counter" else self.family
            for key, s in series:
                add(Sample(name, dict(zip(names, key, strict=True)), s.value))
            return family
        les = [go_float(b) for b in self.bounds] + ["+Inf"]
        with_sum = float(les[0]) >= 0  # OpenMetrics: no _sum when a bucket is negative
        bucket, count, total = self.family + "_bucket", self.family + "_count", self.family + "_sum"
        for key, s in series:
            labels = dict(zip(names, key, strict=True))
            n = 0
            for le, c, ex in zip(les, s.counts, s.exemplars, strict=True):
                n += c
                exemplar = None if ex is None else Exemplar({EXEMPLAR_LABEL: ex[0]}, ex[1], ex[2])
                add(Sample(bucket, {**labels, "le": le}, n, None, exemplar))
            if with_sum:
                add(Sample(count, labels, n))
                add(Sample(total, labels, s.sum))
        return family


class DerivedMetrics:
    """Every `metrics.derived` entry, registered on `registry` as one collector."""

    def __init__(
        self,
        cfgs: list[DerivedMetric],
        registry: Registry = REGISTRY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._plans = [_Plan(c) for c in cfgs]
        self._by_source: dict[str, list[_Plan]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        expiries = [p.expire_after for p in self._plans]
        # Expire on the batch path too, so series stay bounded even if nobody calls expire().
        self._expire_every = min(60.0, max(1.0, min(expiries) / 4)) if expiries else 60.0
        self._next_expire = clock() + self._expire_every
        self._registry: Registry | None = None
        if self._plans:
            registry.register(self)  # raises ValueError on a name clash with another metric
            self._registry = registry

    def observe(self, source: str, records: list[dict[str, Any]]) -> None:
        """Update the metrics from one batch of redacted records of `source`."""
        if not self._plans:
            return
        plans = self._by_source.get(source)
        if plans is None:
            plans = self._by_source[source] = [
                p for p in self._plans if not p.cfg.sources or source in p.cfg.sources
            ]
        if not plans or not records:
            return
        now = self._clock()
        with self._lock:
            if now >= self._next_expire:  # first, so idle series free their slots for this batch
                self._expire_locked(now)
            for plan in plans:
                plan.observe(records, now)

    def expire(self, now: float | None = None) -> None:
        """Drop series idle for their `expire_after`; `now` is Unix time (the `clock`).

        Unix time rather than monotonic because the same clock stamps exemplars; a step of
        the wall clock at worst expires a series early (a counter reset `rate()` handles).
        """
        if not self._plans:
            return
        with self._lock:
            self._expire_locked(self._clock() if now is None else now)

    def _expire_locked(self, now: float) -> None:
        for plan in self._plans:
            plan.expire(now)
        self._next_expire = now + self._expire_every

    def close(self) -> None:
        """Unregister (on config reload, before building the next set)."""
        if self._registry is not None:
            self._registry.unregister(self)
            self._registry = None
        for plan in self._plans:
            with contextlib.suppress(KeyError):
                DERIVED_SERIES.remove(plan.cfg.name)

    def describe(self) -> list[Family]:
        return [p.family_metric(with_samples=False) for p in self._plans]

    def collect(self) -> list[Family]:
        with self._lock:
            return [p.family_metric() for p in self._plans]
