"""A stand-in for the kubelet: a pod from k8s/ run as local processes sharing temp dirs.

No cluster or container engine runs on these machines, so the wiring is proven the way a
kubelet would wire it: volumes become directories (emptyDir empty, configMap/secret/
downwardAPI filled from the manifests), each container's argv follows the Kubernetes rule
(`command` replaces the image ENTRYPOINT, `args` replaces CMD), its env is resolved from
`value`/`fieldRef`/`secretKeyRef`/`configMapKeyRef`, and its container ports are mapped to
free loopback ports.

A process sees container paths that do not exist here, so every container path is
translated through the container's own mounts (`host_path`), and the config files the
container reads from a configMap are rewritten the same way (`rewrite_paths`). A path that
is not under one of the container's mounts is left alone, so a config that names a path
the manifest does not mount points nowhere, and the wiring test fails.
"""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
DOCKERFILE = REPO / "Dockerfile"

Manifest = dict[str, Any]


def manifest_files(root: Path = K8S) -> list[Path]:
    """Every manifest file (the kustomization is not a resource)."""
    return sorted(p for p in root.rglob("*.yaml") if p.name != "kustomization.yaml")


def load_manifests(root: Path = K8S) -> list[tuple[Path, Manifest]]:
    return [
        (path, doc)
        for path in manifest_files(root)
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc is not None
    ]


def find(docs: list[Manifest], kind: str, name: str, namespace: str | None = None) -> Manifest:
    for doc in docs:
        meta = doc.get("metadata", {})
        if (
            doc.get("kind") == kind
            and meta.get("name") == name
            and (namespace is None or meta.get("namespace") == namespace)
        ):
            return doc
    raise LookupError(f"no {kind} {namespace}/{name} in k8s/")


def all_containers(pod_spec: Manifest) -> Iterator[Manifest]:
    yield from pod_spec.get("initContainers", [])
    yield from pod_spec.get("containers", [])


def named_port(container: Manifest, port: int | str) -> int:
    """A probe's or policy's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return int(p["containerPort"])
    raise LookupError(f"container {container['name']} has no port named {port!r}")


def labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the image -----------------------------------------------------------------------------


def dockerfile_final_stage(path: Path = DOCKERFILE) -> dict[str, Any]:
    """ENTRYPOINT, CMD, USER, EXPOSE and WORKDIR of the last stage (exec forms only)."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        elif stages:
            stages[-1].append(line)
    final: dict[str, Any] = {"expose": []}
    for line in stages[-1]:
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction in ("ENTRYPOINT", "CMD"):
            final[instruction.lower()] = json.loads(rest)
        elif instruction == "USER":
            final["user"] = rest.strip()
        elif instruction == "WORKDIR":
            final["workdir"] = rest.strip()
        elif instruction == "EXPOSE":
            final["expose"].extend(int(p.split("/")[0]) for p in rest.split())
    return final


# --- the pod -------------------------------------------------------------------------------


class LocalPod:
    """One replica of a Deployment's pod template, laid out under `root`."""

    def __init__(
        self,
        deployment: Manifest,
        docs: list[Manifest],
        root: Path,
        field_values: Mapping[str, str] | None = None,
    ) -> None:
        self.deployment = deployment
        self.namespace: str = deployment["metadata"]["namespace"]
        self.template: Manifest = deployment["spec"]["template"]
        self.spec: Manifest = self.template["spec"]
        self.docs = docs
        self.root = root
        self.fields: dict[str, str] = {
            "metadata.name": f"{deployment['metadata']['name']}-7d9c5b-x2x7q",
            "metadata.namespace": self.namespace,
            "spec.nodeName": "node-a",
            "status.podIP": "10.1.2.3",
            "spec.serviceAccountName": self.spec.get("serviceAccountName", "default"),
            **(field_values or {}),
        }
        self.volumes: dict[str, Path] = {}
        for volume in self.spec.get("volumes", []):
            self.volumes[volume["name"]] = self._materialize(volume)
        # pod port -> loopback port, like `-p 127.0.0.1:F:P`
        self.ports: dict[int, int] = {
            int(p["containerPort"]): free_port()
            for c in all_containers(self.spec)
            for p in c.get("ports", [])
        }

    def container(self, name: str) -> Manifest:
        for c in all_containers(self.spec):
            if c["name"] == name:
                return c
        raise LookupError(f"no container {name!r} in {self.deployment['metadata']['name']}")

    # volumes

    def _materialize(self, volume: Manifest) -> Path:
        target = self.root / "volumes" / str(volume["name"])
        target.mkdir(parents=True)
        if "emptyDir" in volume:
            return target
        if "configMap" in volume:
            cm = find(self.docs, "ConfigMap", volume["configMap"]["name"], self.namespace)
            self._write_items(target, cm.get("data", {}), volume["configMap"].get("items"))
        elif "secret" in volume:
            secret = find(self.docs, "Secret", volume["secret"]["secretName"], self.namespace)
            self._write_items(target, _secret_data(secret), volume["secret"].get("items"))
        elif "downwardAPI" in volume:
            for item in volume["downwardAPI"]["items"]:
                (target / item["path"]).write_text(self._field(item["fieldRef"]["fieldPath"]))
        else:
            raise NotImplementedError(
                f"volume {volume['name']}: only emptyDir, configMap, "
                "secret and downwardAPI are emulated"
            )
        return target

    @staticmethod
    def _write_items(target: Path, data: Mapping[str, str], items: list[Manifest] | None) -> None:
        pairs = [(i["key"], i["path"]) for i in items] if items else [(k, k) for k in data]
        for key, path in pairs:
            if key not in data:
                raise LookupError(f"volume item key {key!r} is not in the object")
            dest = target / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(data[key], encoding="utf-8")

    def _field(self, path: str) -> str:
        meta = self.template["metadata"]
        if path in ("metadata.labels", "metadata.annotations"):
            pairs = meta.get(path.split(".")[1], {})
            # The downward API's format: key="value", one per line, value JSON-escaped.
            return "".join(f"{k}={json.dumps(v)}\n" for k, v in sorted(pairs.items()))
        if path not in self.fields:
            raise LookupError(f"fieldRef {path} is not emulated")
        return self.fields[path]

    # paths

    def mounts(self, container: Manifest) -> list[tuple[str, Path, bool]]:
        """(container path, host dir, read-only), longest container path first."""
        result = [
            (
                m["mountPath"].rstrip("/"),
                self.volumes[m["name"]] / m.get("subPath", ""),
                bool(m.get("readOnly", False)),
            )
            for m in container.get("volumeMounts", [])
        ]
        return sorted(result, key=lambda m: len(m[0]), reverse=True)

    def host_path(self, container: Manifest, path: str) -> Path:
        for mount_path, host, _ in self.mounts(container):
            if path == mount_path or path.startswith(mount_path + "/"):
                return host / path[len(mount_path) :].lstrip("/")
        raise LookupError(f"{path} is not on a volume mounted in {container['name']}")

    def rewrite_paths(self, container: Manifest, text: str) -> str:
        """Every absolute path in `text` that lies under one of the container's mounts,
        translated to the host; other paths are left as they are."""
        for mount_path, host, _ in self.mounts(container):
            text = re.sub(
                rf"(?<![\w./-]){re.escape(mount_path)}(?=[/\"'\s,\]]|$)",
                _literal(str(host)),
                text,
                flags=re.MULTILINE,
            )
        return text

    def rewrite_mounted_configs(self, container: Manifest) -> None:
        """What the container reads from configMaps, as the process here must see it:
        mount paths translated, listen ports mapped like the pod's ports."""
        for m in container.get("volumeMounts", []):
            volume = next(v for v in self.spec["volumes"] if v["name"] == m["name"])
            if "configMap" in volume:
                for f in self.volumes[m["name"]].rglob("*"):
                    if f.is_file():
                        text = self.rewrite_paths(container, f.read_text())
                        f.write_text(rewrite_listen(text, self.ports))

    # process

    def argv(self, container: Manifest, image: Mapping[str, Any]) -> list[str]:
        """Kubernetes' rule: `command` replaces ENTRYPOINT; `args` replaces CMD (and a
        `command` alone drops CMD). `$(VAR)` expands from the container's env."""
        if "command" in container:
            argv = list(container["command"]) + list(container.get("args", []))
        else:
            argv = list(image.get("entrypoint", [])) + list(
                container.get("args", image.get("cmd", []))
            )
        env = self.env(container)
        return [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a) for a in argv]

    def env(self, container: Manifest) -> dict[str, str]:
        result: dict[str, str] = {}
        for var in container.get("env", []):
            if "value" in var:
                result[var["name"]] = str(var["value"])
                continue
            source = var["valueFrom"]
            if "fieldRef" in source:
                result[var["name"]] = self._field(source["fieldRef"]["fieldPath"])
            elif "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                data = _secret_data(find(self.docs, "Secret", ref["name"], self.namespace))
                result[var["name"]] = data[ref["key"]]
            elif "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                cm = find(self.docs, "ConfigMap", ref["name"], self.namespace)
                result[var["name"]] = cm["data"][ref["key"]]
            else:
                raise NotImplementedError(f"env {var['name']}: {sorted(source)} not emulated")
        return result

    def probe_url(self, container: Manifest, probe: str) -> str:
        """Where the kubelet's httpGet for `probe` (startupProbe, livenessProbe, ...) goes."""
        get = container[probe]["httpGet"]
        port = named_port(container, get["port"])
        if port not in self.ports:
            raise LookupError(f"{probe} port {port} is not a containerPort")
        return f"http://127.0.0.1:{self.ports[port]}{get.get('path', '/')}"


def _literal(replacement: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement taken as is (a host path may hold backslashes or `\\g`)."""
    return lambda _m: replacement


def _secret_data(secret: Manifest) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    data.update(secret.get("stringData", {}))
    return data


def rewrite_listen(text: str, ports: Mapping[int, int]) -> str:
    """`listen: "0.0.0.0:2020"` → the loopback port the pod port 2020 is mapped to.

    Only a port the pod declares is mapped: a config listening elsewhere keeps its
    address, and the probes (which go to the declared port) find nothing there.
    """

    def repl(m: re.Match[str]) -> str:
        port = int(m.group("port"))
        if port not in ports:
            return m.group(0)
        return f"{m.group('pre')}127.0.0.1:{ports[port]}{m.group('post')}"

    return re.sub(
        r"(?P<pre>^\s*listen:\s*[\"']?)(?P<host>[^\s\"']*):(?P<port>\d+)(?P<post>[\"']?\s*$)",
        repl,
        text,
        flags=re.MULTILINE,
    )
