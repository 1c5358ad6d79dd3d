"""The flood benchmark runs end to end on a small file and reports sane figures.

No time is asserted (benchmarks measure, tests do not): only that every line arrived, that
the figures are present and consistent with each other, and that the JSON was written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benches import flood

pytestmark = pytest.mark.integration

LINES = 20_000


def test_flood_reports_every_line_with_consistent_figures(tmp_path: Path) -> None:
    out = tmp_path / "flood.json"
    args = ["--lines", str(LINES), "--workdir", str(tmp_path), "--timeout", "60", "--no-peer"]
    assert flood.main([*args, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    s = report["summary"]
    assert report["scenario"] == "flood"
    assert s["lines"] == LINES
    assert s["receiver"]["entries"] >= LINES, "the receiver did not get every line"
    assert s["exit_code"] == 0, "the collector did not stop cleanly"
    assert "fluent_bit" not in s, "--no-peer ran the peer"
    assert s["lines_per_s"] > 0
    assert s["cpu_s"] > 0
    assert s["cpu_s_per_m_lines"] == pytest.approx(s["cpu_s"] / LINES * 1e6)
    assert s["startup_cpu_s"] <= s["cpu_s"]
    assert 10 < s["peak_rss_mib"] < 4096
    assert s["limit_lines_per_s"] > 0
    assert s["ratio_to_limit"] == pytest.approx(s["lines_per_s"] / s["limit_lines_per_s"])
    assert report["machine"]["nproc"] >= 1
    assert not list(tmp_path.glob("flood-*")), "work directories were left behind"


def test_rate_mode_reports_latency(tmp_path: Path) -> None:
    out = tmp_path / "rate.json"
    args = ["--rate", "2000", "--duration", "2", "--warmup", "1", "--flush-interval", "200ms"]
    assert flood.main([*args, "--workdir", str(tmp_path), "--out", str(out)]) == 0
    s = json.loads(out.read_text())["summary"]
    assert s["received"] == s["lines"] > 0, "not every written line was received"
    assert 0 < s["latency_p50_ms"] <= s["latency_p99_ms"] <= s["latency_max_ms"]
    assert s["cpu_cores_per_1k_lines_s"] > 0
