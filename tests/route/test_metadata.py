from __future__ import annotations

from pathlib import Path

from collector.route.config import MetadataConfig
from collector.route.metadata import parse_downward_file, pod_metadata, unquote

ENV = {
    "POD_NAME": "payments-api-7d9f8b6c5d-x2x7q",
    "POD_NAMESPACE": "payments",
    "NODE_NAME": "node-a-1",
    "POD_IP": "10.44.1.23",
    "APP_CONTAINER_NAME": "",
}

# The downward API volume writes one key="value" per line, values quoted like Go's %q.
LABELS = (
    'app="payments-api"\napp.kubernetes.io/version="1.4.2"\n'
    'pod-template-hash="7d9f8b6c5d"\nempty=""\n'
)
ANNOTATIONS = (
    'kubectl.kubernetes.io/last-applied-configuration="{\\"apiVersion\\":\\"v1\\"}"\n'
    'kubernetes.io/config.seen="2026-11-26T11:00:00Z"\n'
    'payments.example.com/owner="team \\"ledger\\"\\tpci"\n'
)


def _files(tmp_path: Path) -> MetadataConfig:
    labels = tmp_path / "labels"
    labels.write_text(LABELS)
    annotations = tmp_path / "annotations"
    annotations.write_text(ANNOTATIONS)
    return MetadataConfig(labels_file=str(labels), annotations_file=str(annotations))


def test_env_labels_and_annotations(tmp_path: Path) -> None:
    meta = pod_metadata(_files(tmp_path), ENV)
    assert meta == {
        "pod_name": "payments-api-7d9f8b6c5d-x2x7q",
        "namespace": "payments",
        "node_name": "node-a-1",
        "pod_ip": "10.44.1.23",
        "labels": {
            "app": "payments-api",
            "app.kubernetes.io/version": "1.4.2",
            "pod-template-hash": "7d9f8b6c5d",
        },
        "annotations": {"payments.example.com/owner": 'team "ledger"\tpci'},
    }


def test_missing_files_and_env_give_what_there_is(tmp_path: Path) -> None:
    cfg = MetadataConfig(labels_file=str(tmp_path / "nope"), annotations_file=None)
    assert pod_metadata(cfg, {"POD_NAME": "p"}) == {"pod_name": "p"}
    assert pod_metadata(cfg, {}) == {}


def test_disabled_gives_nothing(tmp_path: Path) -> None:
    cfg = MetadataConfig(enabled=False)
    assert pod_metadata(cfg, ENV) == {}


def test_custom_env_mapping_and_exclusions(tmp_path: Path) -> None:
    cfg = MetadataConfig(
        env={"cluster": "CLUSTER_NAME"},
        labels_file=None,
        annotations_file=_files(tmp_path).annotations_file,
        exclude_annotations=["payments.example.com/*"],
    )
    meta = pod_metadata(cfg, {"CLUSTER_NAME": "eu-1", "POD_NAME": "ignored"})
    assert meta == {
        "cluster": "eu-1",
        "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": '{"apiVersion":"v1"}',
            "kubernetes.io/config.seen": "2026-11-26T11:00:00Z",
        },
    }


def test_go_quoting() -> None:
    assert unquote('"a\\\\b\\n\\u00e9\\U0001F600\\x41\\101"') == "a\\b\né😀AA"
    assert unquote('"\\xff"') == "\ufffd"
    assert unquote("bare") == "bare"
    assert parse_downward_file('no-equals\n=x\nk = "v"\n') == {"k": "v"}
