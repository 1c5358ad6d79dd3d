"""k8s/ against the Kubernetes API schemas, a policy linter, and itself.

kubernetes-validate holds the API server's OpenAPI schemas offline; in strict mode an
unknown field fails, as `kubectl apply --validate=strict` would. The Prometheus Operator's
CRDs (PodMonitor, PrometheusRule) are not in those schemas, so they are checked here
against the subset of their schema we use (crd_schemas.py), with unknown fields refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy.crd_schemas import CRD_SCHEMAS
from tests.deploy.localpod import (
    K8S,
    REPO,
    all_containers,
    dockerfile_final_stage,
    find,
    labels_match,
    load_manifests,
    manifest_files,
    named_port,
)

# The newest API kubernetes-validate knows (1.37 as of this writing; the test extra asks
# for kubernetes-validate>=1.37), and the oldest with native sidecars on by default
# (SidecarContainers is beta and enabled from 1.29, GA in 1.33).
K8S_VERSIONS = (kubernetes_validate.latest_version(), "1.29.0")
DOCS = load_manifests()
ALL = [doc for _, doc in DOCS]
CORE = [(p, d) for p, d in DOCS if d["kind"] not in CRD_SCHEMAS]
CRDS = [(p, d) for p, d in DOCS if d["kind"] in CRD_SCHEMAS]
PAYMENT = find(ALL, "Deployment", "payment-service", "payments")
AGGREGATOR = find(ALL, "Deployment", "fluentd-aggregator", "logging")
POD = PAYMENT["spec"]["template"]
SIDECAR = next(c for c in POD["spec"]["initContainers"] if c["name"] == "collector")
COLLECTOR_CONFIG = yaml.safe_load(
    find(ALL, "ConfigMap", "payment-collector-config", "payments")["data"]["collector.yaml"]
)


def _ids(docs: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    return [f"{p.relative_to(K8S)}:{d['kind']}/{d['metadata']['name']}" for p, d in docs]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize(("path", "doc"), CORE, ids=_ids(CORE))
def test_manifest_passes_strict_schema(path: Path, doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_strict_validation_refuses_an_unknown_field() -> None:
    """Guards the guard: a typo'd field must fail, or the test above proves nothing."""
    bad = json.loads(json.dumps(PAYMENT))
    bad["spec"]["template"]["spec"]["initContainers"][0]["restartpolicy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSIONS[0], strict=True)


@pytest.mark.parametrize(("path", "doc"), CRDS, ids=_ids(CRDS))
def test_crd_object_matches_its_schema(path: Path, doc: dict[str, Any]) -> None:
    jsonschema.validate(doc, CRD_SCHEMAS[doc["kind"]])


def test_kustomization_lists_every_manifest_and_pins_every_image() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = {K8S / r for r in kustomization["resources"]}
    assert listed == set(manifest_files()), "kustomization.yaml resources != files in k8s/"
    images = {
        c["image"].rsplit(":", 1)[0]
        for d in ALL
        if d["kind"] == "Deployment"
        for c in all_containers(d["spec"]["template"]["spec"])
    }
    pinned = {i["name"] for i in kustomization["images"]}
    # The app image is the user's to pin; every image we ship or run is pinned here.
    assert images - pinned == {"registry.example.com/payments/payment-service"}


def test_collector_version_agrees_across_image_manifest_and_package() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    pinned = next(i for i in kustomization["images"] if i["name"].endswith("/collector"))
    assert pinned["newTag"] == version
    assert SIDECAR["image"].endswith(f":{version}")
    default = re.search(r"^ARG VERSION=(\S+)$", (REPO / "Dockerfile").read_text(), re.M)
    assert default is not None and default.group(1) == version


# --- the pod's shape and its security ------------------------------------------------------


@pytest.mark.parametrize("deployment", [PAYMENT, AGGREGATOR], ids=["payment", "aggregator"])
def test_every_container_is_locked_down(deployment: dict[str, Any]) -> None:
    spec = deployment["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for c in all_containers(spec):
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True, c["name"]
        assert sc["readOnlyRootFilesystem"] is True, c["name"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
        assert "add" not in sc["capabilities"], c["name"]
        assert sc["seccompProfile"]["type"] == "RuntimeDefault", c["name"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), (c["name"], kind)
    for volume in spec["volumes"]:
        if "emptyDir" in volume:
            assert "sizeLimit" in volume["emptyDir"], volume["name"]


def test_collector_is_a_native_sidecar_with_probes_on_its_metrics_port() -> None:
    assert SIDECAR["restartPolicy"] == "Always"
    metrics_port = named_port(SIDECAR, "metrics")
    listen_port = int(COLLECTOR_CONFIG["metrics"]["listen"].rpartition(":")[2])
    assert metrics_port == listen_port, "metrics containerPort != metrics.listen port"
    paths = {}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = SIDECAR[probe]["httpGet"]
        assert named_port(SIDECAR, get["port"]) == metrics_port, probe
        paths[probe] = get["path"]
    assert paths == {
        "startupProbe": "/readyz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }


def test_image_and_pod_agree_on_user_and_port() -> None:
    image = dockerfile_final_stage()
    uid = int(image["user"].split(":")[0])
    assert uid != 0
    assert SIDECAR["securityContext"]["runAsUser"] == uid
    assert POD["spec"]["securityContext"]["fsGroup"] == int(image["user"].split(":")[1])
    assert image["expose"] == [named_port(SIDECAR, "metrics")]
    checkpoint_mount = {m["mountPath"] for m in SIDECAR["volumeMounts"]}
    assert image["workdir"] in checkpoint_mount
    assert COLLECTOR_CONFIG["checkpoint_dir"] == image["workdir"]


def test_logs_are_shared_app_writes_collector_reads() -> None:
    app = next(c for c in POD["spec"]["containers"] if c["name"] == "payment-service")
    app_mounts = {m["name"]: m for m in app["volumeMounts"]}
    sidecar_mounts = {m["name"]: m for m in SIDECAR["volumeMounts"]}
    assert not app_mounts["app-logs"].get("readOnly", False)
    assert sidecar_mounts["app-logs"]["readOnly"] is True
    writable = {n for n, m in sidecar_mounts.items() if not m.get("readOnly", False)}
    assert writable == {"checkpoints"}, "the collector writes only its checkpoints"


def test_grace_period_fits_the_drain_after_the_app() -> None:
    """The app stops first, then the sidecar drains for up to shutdown_timeout; both
    must fit in terminationGracePeriodSeconds or the kubelet kills the drain."""
    shutdown = float(str(COLLECTOR_CONFIG["pipeline"]["shutdown_timeout"]).rstrip("s"))
    grace = POD["spec"]["terminationGracePeriodSeconds"]
    app_budget = 20  # the placeholder app's own stop time, documented in deployment.yaml
    assert grace >= app_budget + shutdown + 5


# --- Prometheus ----------------------------------------------------------------------------


def test_scrape_annotations_and_podmonitor_point_at_the_metrics_port() -> None:
    annotations = POD["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == named_port(SIDECAR, "metrics")
    monitor = find(ALL, "PodMonitor", "payment-service-collector", "payments")
    assert labels_match(monitor["spec"]["selector"]["matchLabels"], POD["metadata"]["labels"])
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert named_port(SIDECAR, endpoint["port"]) == named_port(SIDECAR, "metrics")
    assert endpoint["path"] == annotations["prometheus.io/path"] == "/metrics"


# --- the network ---------------------------------------------------------------------------


def _peer_matches(peer: dict[str, Any], namespace: str, labels: dict[str, str]) -> bool:
    ns = peer["namespaceSelector"]["matchLabels"]
    return ns == {"kubernetes.io/metadata.name": namespace} and labels_match(
        peer["podSelector"]["matchLabels"], labels
    )


def test_payment_policy_admits_prometheus_and_reaches_only_aggregators_and_dns() -> None:
    policy = find(ALL, "NetworkPolicy", "payment-service-collector", "payments")["spec"]
    assert labels_match(policy["podSelector"]["matchLabels"], POD["metadata"]["labels"])
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (ingress,) = policy["ingress"]
    assert [named_port(SIDECAR, p["port"]) for p in ingress["ports"]] == [
        named_port(SIDECAR, "metrics")
    ]
    assert ingress["from"][0]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "prometheus"
    }
    to_aggregator, to_dns = policy["egress"]
    aggregator_pod = AGGREGATOR["spec"]["template"]
    assert _peer_matches(to_aggregator["to"][0], "logging", aggregator_pod["metadata"]["labels"])
    service = find(ALL, "Service", "fluentd-aggregator", "logging")
    assert [p["port"] for p in to_aggregator["ports"]] == [service["spec"]["ports"][0]["port"]]
    assert {(p["port"], p["protocol"]) for p in to_dns["ports"]} == {(53, "UDP"), (53, "TCP")}


def test_aggregator_policy_admits_the_payment_pods_on_the_forward_port() -> None:
    policy = find(ALL, "NetworkPolicy", "fluentd-aggregator", "logging")["spec"]
    (ingress,) = policy["ingress"]
    assert _peer_matches(ingress["from"][0], "payments", POD["metadata"]["labels"])
    fluentd = AGGREGATOR["spec"]["template"]["spec"]["containers"][0]
    assert named_port(fluentd, ingress["ports"][0]["port"]) == 24224


# --- the policy linter ---------------------------------------------------------------------


def _checkov() -> str:
    """checkov lives in its own venv (its pinned dependencies would fight ours)."""
    for candidate in (os.environ.get("CHECKOV"), str(REPO / ".venv-checkov/bin/checkov")):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("checkov")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("checkov is not installed (make deps-test installs it in .venv-checkov)")
    pytest.skip("checkov is not installed; `make deps-test` installs it")


def run_checkov(*args: str) -> dict[str, Any]:
    """checkov's failed and skipped checks; offline (--skip-download: no guideline fetch)."""
    proc = subprocess.run(
        [_checkov(), *args, "--skip-download", "--output", "json"],
        capture_output=True,
        timeout=300,
    )
    report = json.loads(proc.stdout or b"{}")
    reports = report if isinstance(report, list) else [report]
    merged: dict[str, Any] = {"failed": [], "skipped": [], "parsing_errors": 0}
    for r in reports:
        if not r:
            continue
        merged["failed"] += r.get("results", {}).get("failed_checks", [])
        merged["skipped"] += r.get("results", {}).get("skipped_checks", [])
        merged["parsing_errors"] += r.get("summary", {}).get("parsing_errors", 0)
    return merged


def test_checkov_finds_nothing_unexplained_in_the_manifests() -> None:
    result = run_checkov("--directory", str(K8S), "--framework", "kubernetes")
    failed = [f"{c['check_id']} {c['resource']}" for c in result["failed"]]
    assert failed == []
    assert result["parsing_errors"] == 0
    for check in result["skipped"]:
        reason = (check.get("check_result", {}).get("suppress_comment") or "").strip()
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} skipped bare"


def test_every_checkov_skip_in_k8s_is_documented() -> None:
    skips = {
        value.split("=", 1)[0]
        for doc in ALL
        for key, value in doc["metadata"].get("annotations", {}).items()
        if key.startswith("checkov.io/skip")
    }
    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    assert all(s in deploy_doc for s in skips), "docs/deploy.md must explain every skip"


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


@pytest.mark.parametrize("deployment", [PAYMENT, AGGREGATOR], ids=["payment", "aggregator"])
def test_ephemeral_storage_limits_cover_the_emptydirs(deployment: dict[str, Any]) -> None:
    """The kubelet evicts a pod whose ephemeral usage (emptyDirs, logs, writable layers)
    passes the sum of its containers' limits: that sum must hold every emptyDir full,
    or the pod is evicted before the logs' sizeLimit is ever reached."""
    spec = deployment["spec"]["template"]["spec"]
    limits = sum(
        _bytes(c["resources"]["limits"]["ephemeral-storage"]) for c in all_containers(spec)
    )
    volumes = sum(_bytes(v["emptyDir"]["sizeLimit"]) for v in spec["volumes"] if "emptyDir" in v)
    assert limits >= volumes + 128 * 2**20
