"""Textfiles: valid files served whole, anything doubtful skipped whole and counted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics

from collector.metrics.config import TextfileConfig
from collector.metrics.core import Registry
from collector.metrics.exposition import openmetrics_1_0_0
from collector.metrics.instruments import Counter
from collector.metrics.internal import REGISTRY
from collector.metrics.textfile import TextfileCollector, TextfileError, parse_textfile

GOOD = (
    "# HELP svc_settlement_batches_total Settlement batches sent.\n"
    "# TYPE svc_settlement_batches_total counter\n"
    'svc_settlement_batches_total{acquirer="a"} 12\n'
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def errors(reason: str) -> float:
    return REGISTRY.get_sample_value("collector_textfile_errors_total", {"reason": reason}) or 0.0


def samples(registry: Registry) -> dict[str, dict[str, float]]:
    """sample name -> {file or '' : value} (file label only on the per-file metrics)."""
    out: dict[str, dict[str, float]] = {}
    for fam in registry.collect():
        for s in fam.samples:
            out.setdefault(s.name, {})[s.labels.get("file", "")] = s.value
    return out


def collector(tmp_path: Path, registry: Registry, clock: Clock | None = None) -> None:
    cfg = TextfileConfig(paths=[str(tmp_path / "*.prom")], interval=10.0)
    TextfileCollector(cfg, registry, clock=clock or Clock())


def test_valid_file_served_with_mtime(tmp_path: Path, registry: Registry) -> None:
    f = tmp_path / "settle.prom"
    f.write_text(GOOD)
    os.utime(f, (1_700_000_000, 1_700_000_000))
    collector(tmp_path, registry)
    got = samples(registry)
    assert got["svc_settlement_batches_total"] == {"": 12.0}
    assert got["collector_textfile_mtime_seconds"] == {str(f): 1_700_000_000.0}
    assert got["collector_textfile_valid"] == {str(f): 1.0}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("svc_ok 1\nsvc_bad{ 2\n", "parse"),
        ("svc_ok 1\nsvc_half 1", "parse"),  # no final newline: caught mid-write
        ("svc_ts 1 1700000000000\n", "timestamp"),
        ("svc_dup 1\nsvc_dup 2\n", "duplicate"),
        ("# TYPE svc_x gauge\nsvc_x 1\n# TYPE svc_x counter\n", "conflict"),
        ("collector_lines_read_total 5\n", "conflict"),
        (
            '# TYPE svc_h histogram\nsvc_h_bucket{le="1"} 3\nsvc_h_bucket{le="+Inf"} 2\n'
            "svc_h_count 2\nsvc_h_sum 1\n",
            "invalid",
        ),
        ("svc_bin 1\n\xff\n", "parse"),
        ("# TYPE \nsvc_x 1\n", "parse"),
    ],
)
def test_malformed_file_skipped_whole_and_counted(
    tmp_path: Path, content: str, reason: str
) -> None:
    registry = Registry()
    Counter("collector_lines_read_total", "x", registry=registry)  # a name textfiles can't take
    (tmp_path / "good.prom").write_text(GOOD)
    bad = tmp_path / "bad.prom"
    bad.write_bytes(content.encode("latin-1"))
    before = errors(reason)
    collector(tmp_path, registry)
    got = samples(registry)
    assert not any(
        name.startswith("svc_") and name != "svc_settlement_batches_total" for name in got
    ), "nothing of the bad file is served"
    assert got["svc_settlement_batches_total"] == {"": 12.0}
    assert got["collector_textfile_valid"] == {str(bad): 0.0, str(tmp_path / "good.prom"): 1.0}
    assert errors(reason) == before + 1


def test_bad_file_counted_once_per_version_and_reread_on_change(tmp_path: Path) -> None:
    registry = Registry()
    clock = Clock()
    bad = tmp_path / "svc.prom"
    bad.write_text("svc_x{ 1\n")
    before = errors("parse")
    collector(tmp_path, registry, clock)
    clock.now += 11
    samples(registry)
    assert errors("parse") == before + 1, "an unchanged bad file is not counted again"
    bad.write_text("svc_x 1\n")
    os.utime(bad, (1_800_000_000, 1_800_000_000))
    samples(registry)  # within the interval: the old state is served
    clock.now += 11
    assert samples(registry)["svc_x"] == {"": 1.0}


def test_same_family_in_two_files_merges_and_clash_skips_later(tmp_path: Path) -> None:
    registry = Registry()
    (tmp_path / "a.prom").write_text('# TYPE svc_up gauge\nsvc_up{job="a"} 1\n')
    (tmp_path / "b.prom").write_text('# TYPE svc_up gauge\nsvc_up{job="b"} 1\n')
    (tmp_path / "c.prom").write_text('# TYPE svc_up gauge\nsvc_up{job="a"} 0\n')
    collector(tmp_path, registry)
    fams = [f for f in registry.collect() if f.name == "svc_up"]
    assert len(fams) == 1
    assert sorted(s.labels["job"] for s in fams[0].samples) == ["a", "b"]
    valid = samples(registry)["collector_textfile_valid"]
    assert valid[str(tmp_path / "c.prom")] == 0.0


def test_oversized_file_skipped(tmp_path: Path) -> None:
    registry = Registry()
    (tmp_path / "big.prom").write_text("svc_big 1\n" + "# padding\n" * 200)
    before = errors("too_large")
    TextfileCollector(
        TextfileConfig(paths=[str(tmp_path / "*.prom")], max_file_bytes=100), registry
    )
    assert "svc_big" not in samples(registry)
    assert errors("too_large") == before + 1


def test_vanished_file_disappears(tmp_path: Path) -> None:
    registry = Registry()
    clock = Clock()
    f = tmp_path / "svc.prom"
    f.write_text("svc_x 1\n")
    collector(tmp_path, registry, clock)
    assert "svc_x" in samples(registry)
    f.unlink()
    clock.now += 11
    got = samples(registry)
    assert "svc_x" not in got and got.get("collector_textfile_mtime_seconds", {}) == {}


def test_not_registered_without_paths(registry: Registry) -> None:
    TextfileCollector(TextfileConfig(), registry)
    assert not any(f.name.startswith("collector_textfile") for f in registry.collect())


_LINES = st.sampled_from(
    [
        "svc_a 1",
        'svc_b{x="1"} 2',
        "# TYPE svc_c counter",
        "svc_c_total 3",
        "# HELP svc_a A.",
        "# TYPE svc_h histogram",
        'svc_h_bucket{le="1"} 1',
        'svc_h_bucket{le="+Inf"} 2',
        "svc_h_count 2",
        "svc_h_sum 0.5",
        "svc_a 1 123",
        "svc_{",
        '{x="1"} 1',
        "svc_d NaN",
        "# TYPE svc_a summary",
        'svc_a{quantile="x"} 1',
        "",
        "#",
        "# TYPE",
        "svc_e +Inf",
    ]
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.one_of(_LINES, st.text(max_size=30)), max_size=12))
def test_any_content_is_served_or_skipped_never_raises(lines: list[str]) -> None:
    """A raise in collect() would fail the whole scrape: every input is one or the other."""
    text = "\n".join(lines) + "\n"
    try:
        families = parse_textfile(text, lambda name: False)
    except TextfileError:
        return
    served = openmetrics_1_0_0(families).decode()
    list(parse_openmetrics(served))
