"""The local kubelet stand-in: the proof in test_wiring.py is only as good as its mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.deploy.localpod import LocalPod, rewrite_listen


def _deployment() -> dict[str, Any]:
    container = {
        "name": "c",
        "args": ["--config", "/etc/app/app.yaml"],
        "env": [
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        ],
        "ports": [{"name": "metrics", "containerPort": 2020}],
        "volumeMounts": [
            {"name": "logs", "mountPath": "/var/log/app", "readOnly": True},
            {"name": "cfg", "mountPath": "/etc/app"},
            {"name": "info", "mountPath": "/etc/podinfo"},
        ],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "metrics"}},
    }
    return {
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "ns"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": 'a"b'}},
                "spec": {
                    "containers": [container],
                    "volumes": [
                        {"name": "logs", "emptyDir": {}},
                        {"name": "cfg", "configMap": {"name": "cm"}},
                        {
                            "name": "info",
                            "downwardAPI": {
                                "items": [
                                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}
                                ]
                            },
                        },
                    ],
                },
            }
        },
    }


DOCS: list[dict[str, Any]] = [
    {"kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}, "data": {"app.yaml": "x"}},
    {"kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}, "data": {"k": "c2VjcmV0"}},
]


@pytest.fixture
def pod(tmp_path: Path) -> LocalPod:
    return LocalPod(_deployment(), DOCS, tmp_path)


def test_volumes_are_filled_like_the_kubelet_fills_them(pod: LocalPod) -> None:
    assert (pod.volumes["cfg"] / "app.yaml").read_text() == "x"
    assert (pod.volumes["info"] / "labels").read_text() == 'app="a\\"b"\n'
    assert list(pod.volumes["logs"].iterdir()) == []


def test_env_resolves_field_and_secret_refs(pod: LocalPod) -> None:
    env = pod.env(pod.container("c"))
    assert env == {"POD": pod.fields["metadata.name"], "KEY": "secret"}


def test_args_replace_cmd_and_command_replaces_entrypoint(pod: LocalPod) -> None:
    image = {"entrypoint": ["tool", "run"], "cmd": ["--default"]}
    c = pod.container("c")
    assert pod.argv(c, image) == ["tool", "run", "--config", "/etc/app/app.yaml"]
    assert pod.argv({**c, "args": []}, image) == ["tool", "run"]
    without_args = {k: v for k, v in c.items() if k != "args"}
    assert pod.argv(without_args, image) == ["tool", "run", "--default"]
    assert pod.argv({**without_args, "command": ["other"]}, image) == ["other"]


def test_paths_map_only_under_a_mount(pod: LocalPod) -> None:
    c = pod.container("c")
    logs = str(pod.volumes["logs"])
    text = "paths: [/var/log/app/*.log, /var/log/application/x, /var/log/app]"
    assert pod.rewrite_paths(c, text) == (f"paths: [{logs}/*.log, /var/log/application/x, {logs}]")
    assert pod.host_path(c, "/etc/app/app.yaml") == pod.volumes["cfg"] / "app.yaml"
    with pytest.raises(LookupError):
        pod.host_path(c, "/var/lib/elsewhere")


def test_only_declared_ports_are_mapped(pod: LocalPod) -> None:
    mapped = pod.ports[2020]
    text = 'metrics:\n  listen: "0.0.0.0:2020"\nother:\n  listen: 0.0.0.0:2021\n'
    assert rewrite_listen(text, pod.ports) == (
        f'metrics:\n  listen: "127.0.0.1:{mapped}"\nother:\n  listen: 0.0.0.0:2021\n'
    )
    url = pod.probe_url(pod.container("c"), "readinessProbe")
    assert url == f"http://127.0.0.1:{mapped}/readyz"
