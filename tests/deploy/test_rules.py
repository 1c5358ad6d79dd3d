"""The PrometheusRule in k8s/: the project's alert rules, valid, on metrics that exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.metrics import textfile
from collector.metrics.internal import REGISTRY
from tests.deploy.localpod import REPO, find, load_manifests

ALL = [doc for _, doc in load_manifests()]
RULE = find(ALL, "PrometheusRule", "payment-service-collector", "payments")
GROUPS: list[dict[str, Any]] = RULE["spec"]["groups"]
COLLECTOR_CONFIG = yaml.safe_load(
    find(ALL, "ConfigMap", "payment-collector-config", "payments")["data"]["collector.yaml"]
)


def test_carries_the_projects_rules_unchanged() -> None:
    project = yaml.safe_load((REPO / "config" / "prometheus-rules.yaml").read_text())
    by_name = {g["name"]: g for g in GROUPS}
    for group in project["groups"]:
        assert by_name.get(group["name"]) == group, f"group {group['name']} drifted"


def test_promtool_accepts_every_rule(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed (make deps-test installs prometheus)")
        pytest.skip("promtool is not installed")
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": GROUPS}))
    proc = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _exported_names() -> set[str]:
    names = {textfile.MTIME, textfile.VALID}
    for metric in REGISTRY.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        names.add(metric.name)
        names.update(metric.name + s for s in suffixes.get(metric.type, []))
    for derived in COLLECTOR_CONFIG.get("metrics", {}).get("derived", []):
        base = derived["name"].removesuffix("_total")
        names.update(
            {
                derived["name"],
                base,
                f"{base}_total",
                f"{base}_bucket",
                f"{base}_sum",
                f"{base}_count",
            }
        )
    return names


def test_rules_use_only_metrics_the_collector_exports() -> None:
    """A renamed metric would leave its alert silent forever; catch it here."""
    exported = _exported_names()
    # Series from the collector itself and from the derived metrics configured in the
    # ConfigMap; the rest come from Prometheus (up) and kube-state-metrics.
    external = {"up", "kube_pod_container_status_restarts_total"}
    unknown: set[str] = set()
    for group in GROUPS:
        for rule in group["rules"]:
            for name in re.findall(r"\b([a-z_][a-z0-9_]*)\s*(?=[{\[)]|\s*[><=!]|$)", rule["expr"]):
                if name.startswith(("collector_", "payment", "http_")) and name not in exported:
                    unknown.add(name)
            for name in re.findall(r"\b(kube_\w+|up)\b", rule["expr"]):
                assert name in external, name
    assert not unknown, f"rules reference metrics nobody exports: {sorted(unknown)}"
