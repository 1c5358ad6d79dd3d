"""The everyday-rate benchmark runs end to end at idle and at a trickle, collector alone.

No time is asserted: only that the figures are there and consistent, every written line
arrived, and the JSON was written. Fluent Bit is never needed (`--no-peer`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benches import everyday

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_everyday_reports_idle_and_trickle(tmp_path: Path) -> None:
    out = tmp_path / "everyday.json"
    args = ["--rates", "0", "50", "--duration", "3", "--settle", "0.5", "--no-peer"]
    assert everyday.main([*args, "--workdir", str(tmp_path), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    by_rate = {r["rate"]: r for r in report["runs"]}
    assert set(by_rate) == {0, 50}
    assert {r["agent"] for r in report["runs"]} == {"collector"}
    idle, trickle = by_rate[0], by_rate[50]
    assert idle["lines"] == 0 and idle["cpu_us_per_line"] is None
    assert trickle["lines"] > 0 and trickle["all_arrived"]
    assert trickle["received"] == trickle["lines"] + 1, "the warm-up line plus every line"
    assert trickle["cpu_ms_per_s"] > 0
    assert 0 < trickle["latency_p50_ms"] <= trickle["latency_p99_ms"]
    assert all(5 < r["rss_mib"] < 4096 for r in report["runs"])
    assert not list(tmp_path.glob("everyday-*")), "work directories were left behind"
