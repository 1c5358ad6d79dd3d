"""The alert rules load in promtool and behave; the docs list every metric we expose."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import collector.metrics.internal as internal
from collector.metrics.instruments import Counter, Gauge, Histogram, Info, exposed_name, label_names
from collector.metrics.textfile import MTIME, VALID
from tests.metrics.conftest import ROOT, RULES

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
DOCS = ROOT / "docs" / "metrics.md"
RULES_TEST = Path(__file__).with_name("rules_test.yaml")


def documented() -> dict[str, str]:
    """metric name -> its table row in docs/metrics.md."""
    rows = re.findall(r"^\| `([a-z_:]+)` \|(.*)$", DOCS.read_text(), re.MULTILINE)
    return dict(rows)


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_rules_fire_as_intended() -> None:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "test", "rules", str(RULES_TEST)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_pipeline_metric_is_documented_with_its_labels() -> None:
    rows = documented()
    missing, wrong_labels = [], []
    for m in vars(internal).values():
        if not isinstance(m, Counter | Gauge | Histogram | Info):
            continue
        name = exposed_name(m)
        row = rows.get(name)
        if row is None:
            missing.append(name)
        elif any(f"`{label}`" not in row for label in label_names(m) if not isinstance(m, Info)):
            wrong_labels.append(name)
    for name in (MTIME, VALID):
        if name not in rows:
            missing.append(name)
    assert not missing, f"add to docs/metrics.md: {missing}"
    assert not wrong_labels, f"labels out of date in docs/metrics.md: {wrong_labels}"


def test_rules_use_only_documented_collector_metrics() -> None:
    used = set(re.findall(r"\bcollector_[a-z_]+", RULES.read_text()))
    unknown = used - set(documented())
    assert not unknown, unknown
