"""Our exposition against prometheus_client's, the independent reference it replaced.

prometheus_client renders the same families (ours and its own) and parses what we write;
both must agree byte for byte, for the collector's real registry and for generated
families with every character the formats escape.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PCounter
from prometheus_client import Gauge as PGauge
from prometheus_client import Histogram as PHistogram
from prometheus_client import Info as PInfo
from prometheus_client import Summary as PSummary
from prometheus_client.exposition import choose_encoder
from prometheus_client.exposition import generate_latest as prom_text
from prometheus_client.openmetrics.exposition import generate_latest as prom_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

from collector.derived import DerivedMetrics
from collector.metrics import exposition as ex
from collector.metrics.core import Exemplar, Family, Registry, Sample, go_float
from collector.metrics.instruments import Counter, Gauge, Histogram, Info
from collector.metrics.internal import REGISTRY
from collector.metrics.process import PlatformCollector, ProcessCollector
from tests.metrics.conftest import example_config
from tools.simulator import PaymentLogs

ESCAPINGS = (ex.UNDERSCORES, ex.ALLOW_UTF8, ex.DOTS, ex.VALUES)


class Families:
    """A fixed list of families, as a collector for prometheus_client's writers."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families


def same_text(families: list[Any], escaping: str = ex.UNDERSCORES) -> None:
    ours = ex.text_0_0_4(families, escaping)
    assert ours == prom_text(Families(families), escaping)  # type: ignore[arg-type]


def same_openmetrics(families: list[Any], escaping: str = ex.UNDERSCORES) -> None:
    ours = ex.openmetrics_1_0_0(families, escaping)
    assert ours == prom_openmetrics(Families(families), escaping)  # type: ignore[no-untyped-call]


@pytest.fixture
def full() -> Any:
    """The collector's registry with derived metrics (and their exemplars) observed."""
    derived = DerivedMetrics(example_config().derived, REGISTRY, clock=lambda: 1.7e9)
    gen = PaymentLogs(seed=5)
    derived.observe("payments", [gen.record() for _ in range(300)])
    yield list(REGISTRY.collect())
    derived.close()


def test_the_collectors_registry_renders_as_prometheus_client_renders_it(full: Any) -> None:
    for escaping in ESCAPINGS:
        same_text(full, escaping)
    for escaping in (ex.UNDERSCORES, ex.ALLOW_UTF8):  # no colon in our names (see module doc)
        same_openmetrics(full, escaping)


def test_what_we_write_parses_back_to_the_same_samples(full: Any) -> None:
    def samples(families: Any) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
        return {
            (s.name, tuple(sorted(s.labels.items())), float(s.value))
            for f in families
            for s in f.samples
        }

    want = samples(full)
    assert samples(parse_text(ex.text_0_0_4(full).decode())) == want
    parsed = list(parse_om(ex.openmetrics_1_0_0(full).decode()))
    assert samples(parsed) == want
    assert [(f.name, f.type, f.documentation) for f in parsed] == [
        (f.name, f.type, f.documentation) for f in full
    ]
    exemplars = [s.exemplar for f in parsed for s in f.samples if s.exemplar is not None]
    assert exemplars and all(set(e.labels) == {"trace_id"} for e in exemplars)


def test_prometheus_clients_own_families_render_the_same() -> None:
    """Every type it has (summary too), label values with each escaped character."""
    r = CollectorRegistry()
    PCounter("c_total", 'Help with \\ and "quotes"\nand a newline.', ["a"], registry=r).labels(
        'x"y\\z\n\u00e9'
    ).inc(3)
    PGauge("g", "Gauge.", registry=r).set(-0.0)
    h = PHistogram("h_seconds", "H.", ["le_not"], buckets=(2e-9, 0.1, 1e6), registry=r)
    h.labels("v").observe(5)
    PInfo("i", "Info.", registry=r).info({"version": "1"})
    PSummary("s", "Summary.", registry=r).observe(2)
    families = list(r.collect())
    for escaping in ESCAPINGS:
        same_text(families, escaping)
    same_openmetrics(families)


_legacy = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
_any_name = st.one_of(_legacy, st.text(min_size=1, max_size=8))
_value = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.sampled_from([0.0, 1e6, 1234567.0, 1e-9, 0.1, 100.0]),
)
_labels = st.dictionaries(_legacy.filter(lambda n: not n.startswith("__")), st.text(), max_size=3)


@st.composite
def families(draw: Any, name: Any) -> list[Family]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        fname = draw(name) + f"_{i}"
        kind = draw(st.sampled_from(["gauge", "unknown", "counter", "info"]))
        family = Family(fname, draw(st.text(max_size=20)), kind)
        sample = {"counter": fname + "_total", "info": fname + "_info"}.get(kind, fname)
        for labels in draw(st.lists(_labels, max_size=3, unique_by=lambda d: tuple(sorted(d)))):
            family.add_sample(sample, labels, draw(_value))
        if kind == "counter" and draw(st.booleans()):
            family.add_sample(fname + "_created", {}, 1.7e9)
        out.append(family)
    return out


@settings(max_examples=300, deadline=None)
@given(fams=families(_any_name), escaping=st.sampled_from(ESCAPINGS))
def test_generated_families_render_the_same_in_the_text_format(
    fams: list[Family], escaping: str
) -> None:
    same_text(fams, escaping)


@settings(max_examples=300, deadline=None)
@given(fams=families(_legacy), escaping=st.sampled_from([ex.UNDERSCORES, ex.ALLOW_UTF8]))
def test_generated_families_render_the_same_in_openmetrics(
    fams: list[Family], escaping: str
) -> None:
    same_openmetrics(fams, escaping)


def test_a_colon_stays_a_colon_in_openmetrics_sample_names() -> None:
    """prometheus_client wrote `a_b_total` under `# TYPE a:b counter`; the format says
    `a:b_total`, as the text format has always written it."""
    family = Family("a:b", "Colon.", "counter")
    family.add_sample("a:b_total", {}, 1)
    body = ex.openmetrics_1_0_0([family]).decode()
    assert "\na:b_total 1.0\n" in body
    assert [s.name for f in parse_om(body) for s in f.samples] == ["a:b_total"]


def test_exemplar_only_on_buckets_and_counters() -> None:
    family = Family("g", "G.", "gauge")
    family.samples.append(Sample("g", {}, 1.0, None, Exemplar({"trace_id": "a"}, 1.0)))
    with pytest.raises(ValueError):
        ex.openmetrics_1_0_0([family])


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "*/*",
        "text/plain",
        "text/plain;version=0.0.4",
        "text/plain;version=1.0.0",
        "text/plain; version=1.0.0; escaping=allow-utf-8",
        "application/openmetrics-text",
        "application/openmetrics-text; version=0.0.1",
        "application/openmetrics-text;version=1.0.0",
        "application/openmetrics-text;version=1.0.0;escaping=dots",
        "application/openmetrics-text;version=1.0.0;escaping=nonsense",
        # Prometheus 2.x, then 3.x
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
        "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
        "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;"
        "escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
        "application/openmetrics-text;version=0.0.1;q=0.9,text/plain;version=1.0.0",
    ],
)
def test_negotiation_picks_what_prometheus_client_picked(accept: str | None) -> None:
    family = Family("up_things", "Things.", "counter")
    family.add_sample("up_things_total", {"a": "b"}, 2)
    writer, content_type = ex.negotiate(accept)
    their_writer, their_type = choose_encoder(accept)  # type: ignore[arg-type]
    assert content_type == their_type
    assert writer([family]) == their_writer(Families([family]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "name[]=a",
        "name[]=a&name[]=b_total",
        "name%5B%5D=a%3Ab&name[]=&x=1",
        "name[]=a+b&name[]=%E2%9C%93&name[]=%zz",
        "name[]",
    ],
)
def test_name_filter_reads_the_query_as_parse_qs(query: str) -> None:
    assert ex.query_names(query) == parse_qs(query).get("name[]")


def test_name_filter_keeps_only_the_named_samples() -> None:
    r = Registry()
    Counter("a_total", "A.", registry=r).inc()
    Gauge("b", "B.", registry=r).set(2)
    status, headers, body = ex.metrics_response(r, "GET", "name[]=a_total", None, None)
    assert status == "200 OK" and headers == [("Content-Type", ex.TEXT_0_0_4)]
    assert body == b"# HELP a_total A.\n# TYPE a_total counter\na_total 1.0\n"


def test_gzip_when_accepted_and_only_get_or_options() -> None:
    import gzip

    r = Registry()
    Gauge("b", "B.", registry=r).set(2)
    _, headers, body = ex.metrics_response(r, "GET", "", None, "deflate, GZIP;q=0.5")
    assert ("Content-Encoding", "gzip") in headers
    assert gzip.decompress(body) == b"# HELP b B.\n# TYPE b gauge\nb 2.0\n"
    assert ex.metrics_response(r, "OPTIONS", "", None, None) == (
        "200 OK",
        [("Allow", "OPTIONS,GET")],
        b"",
    )
    status, headers, body = ex.metrics_response(r, "HEAD", "", None, None)
    assert status == "405 Method Not Allowed" and headers == [("Allow", "OPTIONS,GET")]
    assert body == b"# HTTP 405 Method Not Allowed: HEAD; use OPTIONS or GET\n"


@pytest.mark.parametrize("value", [0.0, -0.0, 1.0, 0.1, 1e6, 123456789.0, 1e22, 5e-324, -1e300])
def test_go_float(value: float) -> None:
    from prometheus_client.utils import floatToGoString

    assert go_float(value) == floatToGoString(value)  # type: ignore[no-untyped-call]
    assert go_float(math.inf) == "+Inf" and go_float(-math.inf) == "-Inf"
    assert go_float(math.nan) == "NaN"


def _samples(families: Any) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, s.labels, s.value)
        for f in families
        for s in f.samples
        if not s.name.endswith("_created")
    ]


def test_instruments_collect_what_prometheus_clients_collected() -> None:
    ours, theirs = Registry(), CollectorRegistry()
    for registry, (counter, gauge, histogram, info) in (
        (ours, (Counter, Gauge, Histogram, Info)),
        (theirs, (PCounter, PGauge, PHistogram, PInfo)),
    ):
        c = counter("c_total", "C.", ["a", "b"], registry=registry)
        c.labels(a="1", b="2").inc(2)
        c.labels(3, 4).inc()
        c.labels("gone", "x").inc()
        c.remove("gone", "x")
        g = gauge("g", "G.", registry=registry)
        g.inc(5)
        g.dec(2)
        gf = gauge("gf", "Gf.", ["k"], registry=registry)
        gf.labels("v").set_function(lambda: 7)
        h = histogram("h", "H.", registry=registry, buckets=(0.5, 1, 30))
        for v in (0.2, 0.5, 0.7, 31, -1, math.nan):
            h.observe(v)
        info("build", "Build.", registry=registry).info({"version": "9"})
    got, want = list(ours.collect()), list(theirs.collect())
    assert [(f.name, f.type, f.documentation) for f in got] == [
        (f.name, f.type, f.documentation) for f in want
    ]
    assert repr(_samples(got)) == repr(_samples(want))  # repr: NaN == NaN
    created = [s.name for f in got for s in f.samples if s.name.endswith("_created")]
    assert created == [s.name for f in want for s in f.samples if s.name.endswith("_created")]
    with pytest.raises(ValueError):
        Counter("n_total", "N.", registry=Registry()).inc(-1)
    with pytest.raises(ValueError):
        Counter("l_total", "L.", ["a"], registry=Registry()).labels("1", "2")


def test_a_name_registered_twice_is_refused() -> None:
    r = Registry()
    Counter("x_total", "X.", registry=r)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Gauge("x_created", "Clash with the counter's _created.", registry=r)


def test_process_and_platform_metrics_match_prometheus_clients_collectors() -> None:
    from prometheus_client import PlatformCollector as PPlatform
    from prometheus_client import ProcessCollector as PProcess

    theirs = {f.name: f for f in PProcess(registry=None).collect()}
    ours = {f.name: f for f in ProcessCollector().collect()}
    assert (
        set(ours)
        == set(theirs)
        == {
            "process_virtual_memory_bytes",
            "process_resident_memory_bytes",
            "process_start_time_seconds",
            "process_cpu_seconds",
            "process_open_fds",
            "process_max_fds",
        }
    )
    for name, family in ours.items():
        other = theirs[name]
        assert (family.type, family.documentation) == (other.type, other.documentation)
        assert [(s.name, s.labels) for s in family.samples] == [
            (s.name, s.labels) for s in other.samples
        ]
    for name in ("process_start_time_seconds", "process_max_fds"):
        assert ours[name].samples[0].value == theirs[name].samples[0].value
    assert ours["process_resident_memory_bytes"].samples[0].value == pytest.approx(
        theirs["process_resident_memory_bytes"].samples[0].value, rel=0.2
    )
    platform, their_platform = PlatformCollector().collect(), PPlatform(registry=None).collect()
    assert ex.text_0_0_4(platform) == prom_text(Families(list(their_platform)))  # type: ignore[arg-type]
