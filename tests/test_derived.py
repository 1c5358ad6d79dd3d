"""Log-derived metrics: conditions, labels, values, caps, expiry, exemplars."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.derived import OVERFLOW, DerivedMetrics
from collector.metrics.config import DerivedMetric, MatchCondition
from collector.metrics.core import Registry
from collector.metrics.internal import REGISTRY
from tools.simulator import PaymentLogs

_names = itertools.count()


@pytest.fixture
def registry() -> Registry:
    """A registry of the test's own: derived series are registered per test."""
    return Registry()


def unique(prefix: str) -> str:
    """A fresh metric name: the self-metrics in REGISTRY are global and outlive a test."""
    return f"{prefix}_{next(_names)}"


def series(registry: Registry, sample: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for fam in registry.collect()
        for s in fam.samples
        if s.name == sample
    }


def self_metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def counter(name: str, **kw: Any) -> DerivedMetric:
    return DerivedMetric(name=name, type="counter", **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counts_records_matching_every_condition(registry: Registry) -> None:
    cfg = counter(
        "payments_total",
        labels={"status": "payment.status", "method": "payment.method"},
        match=[MatchCondition(field="event", regex=r"^payment\.")],
    )
    d = DerivedMetrics([cfg], registry)
    d.observe(
        "app",
        [
            {"event": "payment.authorised", "payment": {"status": "authorised", "method": "card"}},
            {"event": "payment.authorised", "payment": {"status": "authorised", "method": "card"}},
            {"event": "payment.declined", "payment": {"status": "declined", "method": "sepa"}},
            {"event": "http.request", "payment": {"status": "authorised", "method": "card"}},
        ],
    )
    assert series(registry, "payments_total") == {
        (("method", "card"), ("status", "authorised")): 2.0,
        (("method", "sepa"), ("status", "declined")): 1.0,
    }


@pytest.mark.parametrize(
    ("cond", "matching"),
    [
        (MatchCondition(field="http.status", equals=500), [0, 3]),  # int and "500" alike
        (MatchCondition(field="http.status", equals="500"), [0, 3]),
        (MatchCondition(field="http.status", in_=[500, 503]), [0, 1, 3]),
        (MatchCondition(field="http.status", regex=r"^5\d\d$"), [0, 1, 3]),
        (MatchCondition(field="http.status", exists=True), [0, 1, 2, 3, 5]),
        (MatchCondition(field="http.status", exists=False), [4]),
        (MatchCondition(field="ok", equals=True), [5]),
        (MatchCondition(field="http.status", regex="^2", exists=True), [2, 5]),
    ],
)
def test_conditions(registry: Registry, cond: MatchCondition, matching: list[int]) -> None:
    records: list[dict[str, Any]] = [
        {"i": 0, "http": {"status": 500}},
        {"i": 1, "http": {"status": 503}},
        {"i": 2, "http": {"status": 200}},
        {"i": 3, "http.status": "500"},  # a flat dotted key, as logfmt writes it
        {"i": 4, "http": "not a map"},
        {"i": 5, "http": {"status": 201.0}, "ok": True},
    ]
    d = DerivedMetrics([counter("hits", labels={"i": "i"}, match=[cond])], registry)
    d.observe("app", records)
    got = sorted(int(dict(k)["i"]) for k in series(registry, "hits_total"))
    assert got == matching


def test_histogram_scales_and_buckets_and_counts(registry: Registry) -> None:
    cfg = DerivedMetric(
        name="auth_seconds",
        type="histogram",
        field="latency_ms",
        scale=0.001,
        buckets=[0.05, 0.1, 0.5],
    )
    d = DerivedMetrics([cfg], registry)
    d.observe("app", [{"latency_ms": v} for v in (10, 50, 60, 100, 400, 900, "75")])
    buckets = {dict(k)["le"]: v for k, v in series(registry, "auth_seconds_bucket").items()}
    assert buckets == {"0.05": 2.0, "0.1": 5.0, "0.5": 6.0, "+Inf": 7.0}
    assert series(registry, "auth_seconds_count") == {(): 7.0}
    assert series(registry, "auth_seconds_sum")[()] == pytest.approx(1.595)


def test_unusable_values_are_skipped_and_counted(registry: Registry) -> None:
    name = unique("lat")
    d = DerivedMetrics([DerivedMetric(name=name, type="histogram", field="latency_ms")], registry)
    d.observe("app", [{"latency_ms": "fast"}, {}, {"latency_ms": True}, {"latency_ms": 1}])
    assert series(registry, f"{name}_count") == {(): 1.0}
    skipped = "collector_derived_records_skipped_total"
    assert self_metric(skipped, metric=name, reason="not_numeric") == 2.0
    assert self_metric(skipped, metric=name, reason="missing_field") == 1.0


def test_gauge_keeps_last_value_and_counter_can_sum_a_field(registry: Registry) -> None:
    d = DerivedMetrics(
        [
            DerivedMetric(name="queue_depth", type="gauge", field="depth", labels={"q": "q"}),
            counter("amount_total", field="amount", labels={"cur": "currency"}),
        ],
        registry,
    )
    d.observe(
        "app",
        [
            {"q": "a", "depth": 3, "amount": 1.5, "currency": "EUR"},
            {"q": "a", "depth": 7, "amount": 2.5, "currency": "EUR"},
        ],
    )
    assert series(registry, "queue_depth") == {(("q", "a"),): 7.0}
    assert series(registry, "amount_total") == {(("cur", "EUR"),): 4.0}


def test_sources_filter(registry: Registry) -> None:
    d = DerivedMetrics([counter("lines", sources=["payments"])], registry)
    d.observe("payments", [{}, {}])
    d.observe("audit", [{}, {}, {}])
    assert series(registry, "lines_total") == {(): 2.0}


def test_missing_label_field_gives_empty_value(registry: Registry) -> None:
    d = DerivedMetrics([counter("c", labels={"reason": "payment.decline_reason"})], registry)
    d.observe("app", [{"payment": {}}])
    assert series(registry, "c_total") == {(("reason", ""),): 1.0}


def test_no_metrics_configured_returns_without_looking_at_records() -> None:
    class Untouchable(list[dict[str, Any]]):
        def __iter__(self) -> Any:
            raise AssertionError("records were iterated")

        def __len__(self) -> int:
            raise AssertionError("records were measured")

    DerivedMetrics([]).observe("app", Untouchable())


def test_ten_thousand_distinct_values_stay_within_cap(registry: Registry) -> None:
    name = unique("merchants")
    cap = 100
    d = DerivedMetrics([counter(name, labels={"merchant": "merchant_id"})], registry)
    records = [{"merchant_id": f"m{i}"} for i in range(10_000)]
    for start in range(0, len(records), 500):
        d.observe("app", records[start : start + 500])
    got = series(registry, f"{name}_total")
    values = {dict(k)["merchant"] for k in got}
    assert len(values) == cap + 1 and OVERFLOW in values
    assert got[(("merchant", OVERFLOW),)] == 10_000 - cap
    assert sum(got.values()) == 10_000, "every record is counted, capped or not"
    overflow = self_metric("collector_derived_label_overflow_total", metric=name, label="merchant")
    assert overflow == 10_000 - cap
    assert self_metric("collector_derived_series", metric=name) == cap + 1


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 5)), max_size=200),
    cap=st.integers(1, 12),
)
def test_caps_hold_for_any_input(values: list[tuple[int, int]], cap: int) -> None:
    registry = Registry()
    name = unique("capped")
    d = DerivedMetrics([counter(name, labels={"a": "a", "b": "b"}, max_label_values=cap)], registry)
    d.observe("app", [{"a": a, "b": str(b)} for a, b in values])
    got = series(registry, f"{name}_total")
    for label in ("a", "b"):
        distinct = {dict(k)[label] for k in got}
        assert len(distinct - {OVERFLOW}) <= cap
    assert sum(got.values()) == len(values)
    # The first `cap` distinct values of a label are kept as they are.
    first_a = list(dict.fromkeys(str(a) for a, _ in values))[:cap]
    assert set(first_a) <= {dict(k)["a"] for k in got}


def test_idle_series_expire_and_free_their_label_values(registry: Registry) -> None:
    clock = Clock()
    name = unique("exp")
    d = DerivedMetrics(
        [counter(name, labels={"v": "v"}, max_label_values=2, expire_after=60)],
        registry,
        clock=clock,
    )
    d.observe("app", [{"v": "a"}, {"v": "b"}])
    clock.now += 50
    d.observe("app", [{"v": "b"}, {"v": "c"}])  # c overflows: a and b hold the cap
    assert {dict(k)["v"] for k in series(registry, f"{name}_total")} == {"a", "b", OVERFLOW}
    clock.now += 20
    d.expire(clock.now)  # a idle for 70 s: gone
    assert {dict(k)["v"] for k in series(registry, f"{name}_total")} == {"b", OVERFLOW}
    d.observe("app", [{"v": "c"}])  # a's slot is free again
    assert {dict(k)["v"] for k in series(registry, f"{name}_total")} == {"b", "c", OVERFLOW}
    clock.now += 1000
    d.observe("app", [{"v": "d"}])  # expiry also runs on the batch path
    assert {dict(k)["v"] for k in series(registry, f"{name}_total")} == {"d"}


def test_histogram_exemplar_carries_trace_id(registry: Registry) -> None:
    cfg = DerivedMetric(
        name="auth_seconds",
        type="histogram",
        field="latency_ms",
        scale=0.001,
        buckets=[0.1, 1.0],
        exemplar_field="trace_id",
    )
    d = DerivedMetrics([cfg], registry)
    d.observe(
        "app",
        [
            {"latency_ms": 50, "trace_id": "aaaa"},
            {"latency_ms": 700, "trace_id": "bbbb"},
            {"latency_ms": 900, "trace_id": "x" * 200},  # too long for OpenMetrics: no exemplar
            {"latency_ms": 80},
        ],
    )
    exemplars = {
        s.labels["le"]: s.exemplar
        for fam in registry.collect()
        for s in fam.samples
        if s.name == "auth_seconds_bucket"
    }
    assert exemplars["0.1"] is not None and exemplars["0.1"].labels == {"trace_id": "aaaa"}
    assert exemplars["1.0"] is not None and exemplars["1.0"].labels == {"trace_id": "bbbb"}
    assert exemplars["1.0"].value == pytest.approx(0.7)
    assert exemplars["+Inf"] is None


def test_name_clash_with_registered_metric_is_refused(registry: Registry) -> None:
    DerivedMetrics([counter("payments_total")], registry)
    with pytest.raises(ValueError, match="Duplicated"):
        DerivedMetrics([counter("payments")], registry)


def test_close_unregisters(registry: Registry) -> None:
    d = DerivedMetrics([counter("payments_total")], registry)
    d.close()
    DerivedMetrics([counter("payments_total")], registry)


def test_simulated_payment_logs_with_example_config(registry: Registry) -> None:
    from tests.metrics.conftest import example_config

    d = DerivedMetrics(example_config().derived, registry)
    records = _records(2000)
    d.observe("payments", records)
    by_status: dict[str, int] = {}
    for r in records:
        if str(r.get("event", "")).startswith("payment."):
            status = r["payment"]["status"]
            by_status[status] = by_status.get(status, 0) + 1
    got: dict[str, float] = {}
    for k, v in series(registry, "payments_total").items():
        got[dict(k)["status"]] = got.get(dict(k)["status"], 0) + v
    assert got == by_status
    errors_5xx = sum(
        1 for r in records if isinstance(r.get("http"), dict) and r["http"]["status"] >= 500
    )
    assert sum(series(registry, "http_server_errors_total").values()) == errors_5xx


def _records(n: int) -> list[dict[str, Any]]:
    gen = PaymentLogs(seed=7)
    return [gen.record() for _ in range(n)]


def test_expire_on_unix_time_keeps_fresh_series(registry: Registry) -> None:
    """The pipeline calls expire(time.time()) every second: fresh series must survive it."""
    import time

    d = DerivedMetrics([counter("fresh", expire_after=60)], registry)
    d.observe("app", [{}])
    d.expire(time.time())
    d.expire()
    assert series(registry, "fresh_total") == {(): 1.0}
