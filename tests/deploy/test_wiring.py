"""The payment pod from k8s/, run here: the collector sidecar's own command, args, env and
mounts, the simulator writing where the app container writes, a real FluentServer holding
the aggregator's shared key where the aggregator Service would be.

Records must arrive, redacted and tagged for the aggregator's <match>; the probes must
answer on the manifest's port and paths; SIGTERM must drain within the pod's grace
period. Change a mount path, a port, a probe path, a configMap key or a Secret in the
manifests without the config following (or the other way round) and this fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import fluentconf
from tests.deploy.localpod import (
    LocalPod,
    all_containers,
    dockerfile_final_stage,
    find,
    load_manifests,
)
from tools.receiver import REPO, FluentReceiver
from tools.simulator import TEST_PANS

pytestmark = pytest.mark.integration

LINES = 300
MORE = 100
VENV_BIN = Path(sys.executable).parent


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def _wait_for_probe(url: str, period: float, failures: int) -> bool:
    """The kubelet's startupProbe loop: success within period times failureThreshold."""
    deadline = time.monotonic() + period * failures
    while time.monotonic() < deadline:
        if _get(url) == 200:
            return True
        time.sleep(0.2)
    return False


def _simulate(log_file: Path, count: int, start_seq: int) -> None:
    """The app container: the payment-log simulator appending to the app's LOG_FILE."""
    args = ["--out", str(log_file), "--rate", "0", "--count", str(count)]
    args += ["--start-seq", str(start_seq), "--seed", str(8 + start_seq)]
    subprocess.run(
        [sys.executable, "-m", "tools.simulator", *args],
        cwd=REPO,
        check=True,
        timeout=60,
    )


def _snapshot(dirs: list[Path]) -> dict[str, str]:
    """Digests, not contents: a failure message must never print a log line."""
    return {
        str(f): hashlib.sha256(f.read_bytes()).hexdigest()
        for d in dirs
        for f in sorted(d.rglob("*"))
        if f.is_file()
    }


def _read_only_volumes(pod: LocalPod, container: dict[str, Any]) -> list[Path]:
    """Volumes this container mounts read-only and no other container writes."""
    others_write = {
        host
        for c in all_containers(pod.spec)
        if c["name"] != container["name"]
        for _, host, ro in pod.mounts(c)
        if not ro
    }
    return [host for _, host, ro in pod.mounts(container) if ro and host not in others_write]


@pytest.fixture
def pod(tmp_path: Path) -> LocalPod:
    docs = [doc for _, doc in load_manifests()]
    return LocalPod(find(docs, "Deployment", "payment-service", "payments"), docs, tmp_path)


@pytest.fixture
def collector_proc(
    pod: LocalPod, tmp_path: Path
) -> Iterator[Callable[[dict[str, str]], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        container = pod.container("collector")
        argv = [pod.rewrite_paths(container, a) for a in pod.argv(container, IMAGE)]
        env = {"PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
        env.update(pod.env(container))
        env.update(extra_env)
        stderr = (tmp_path / "collector.stderr").open("ab")
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=pod.host_path(container, IMAGE["workdir"]),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        stderr.close()
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


IMAGE = dockerfile_final_stage()


def test_sidecar_ships_the_apps_logs_through_the_manifests_wiring(
    pod: LocalPod,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[[dict[str, str]], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    docs = [doc for _, doc in load_manifests()]
    # The aggregator side: its Secret's key and its hostname, on a real Forward server.
    aggregator_secret = find(docs, "Secret", "forward-shared-key", "logging")
    receiver = fluent_server(
        [
            "--shared-key",
            aggregator_secret["stringData"]["shared_key"],
            "--server-hostname",
            "fluentd-aggregator-0",
        ]
    )
    sidecar = pod.container("collector")
    assert sidecar.get("restartPolicy") == "Always", "the collector must be a native sidecar"
    pod.rewrite_mounted_configs(sidecar)
    read_only = _read_only_volumes(pod, sidecar)
    before = _snapshot(read_only)
    knobs = {"FORWARD_HOST": "127.0.0.1", "FORWARD_PORT": str(receiver.port)}

    # `collector check-config` accepts the ConfigMap's config as the pod would read it.
    config_arg = pod.rewrite_paths(sidecar, pod.argv(sidecar, IMAGE)[-1])
    check = subprocess.run(
        [str(VENV_BIN / "collector"), "check-config", config_arg],
        env={**os.environ, **pod.env(sidecar), **knobs},
        capture_output=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr.decode(errors="replace")[-2000:]

    # Native sidecar order: the collector first, the app once its startupProbe passes.
    proc = collector_proc(knobs)
    startup = sidecar["startupProbe"]
    started = _wait_for_probe(
        pod.probe_url(sidecar, "startupProbe"),
        float(startup.get("periodSeconds", 10)),
        int(startup.get("failureThreshold", 3)),
    )
    stderr_path = tmp_path / "collector.stderr"
    assert started, f"startupProbe never passed; stderr: {stderr_path.read_text()[-2000:]}"

    app = pod.container("payment-service")
    log_file = pod.host_path(app, pod.env(app)["LOG_FILE"])
    _simulate(log_file, count=LINES, start_seq=0)

    entries = receiver.wait_for(LINES, timeout=60)
    assert proc.poll() is None, f"collector exited: {stderr_path.read_text()[-2000:]}"
    seqs = sorted(e["record"].get("seq") for e in entries)
    assert seqs == list(range(1, LINES + 1)), f"got {len(entries)} entries, wanted {LINES}"

    # Every record is tagged for the aggregator's <match>, carries the pod's identity
    # from the downward API, and no card number.
    fluent_conf = find(docs, "ConfigMap", "fluentd-aggregator-config", "logging")
    matches = [
        d.arg for d in fluentconf.parse(fluent_conf["data"]["fluent.conf"]) if d.name == "match"
    ]
    unrouted = {
        e["tag"] for e in entries if not any(fluentconf.tag_matches(m, e["tag"]) for m in matches)
    }
    assert not unrouted, f"tags no aggregator <match> takes: {sorted(unrouted)}"
    meta = entries[0]["record"].get("kubernetes", {})
    assert meta.get("pod_name") == pod.fields["metadata.name"]
    assert meta.get("namespace") == "payments"
    assert meta.get("container_name") == "payment-service"
    assert meta.get("labels", {}).get("app.kubernetes.io/name") == "payment-service"
    leaked = [i for i, e in enumerate(entries) if any(p in json.dumps(e) for p in TEST_PANS)]
    assert not leaked, f"{len(leaked)} shipped records carry a test PAN, first at {leaked[0]}"

    # The kubelet's probes, on the manifest's ports and paths.
    for probe in ("livenessProbe", "readinessProbe"):
        assert _get(pod.probe_url(sidecar, probe)) == 200, f"{probe} does not answer 200"
    annotations = pod.template["metadata"]["annotations"]
    scrape_port = pod.ports[int(annotations["prometheus.io/port"])]
    with urllib.request.urlopen(
        f"http://127.0.0.1:{scrape_port}{annotations['prometheus.io/path']}", timeout=5
    ) as response:
        exposition = response.read().decode()
    assert "collector_forward_records_acked_total" in exposition
    assert "payments_total{" in exposition, "the ConfigMap's derived metrics are not served"

    # Pod deletion: SIGTERM, drain, checkpoint, exit 0 within the grace period.
    proc.send_signal(signal.SIGTERM)
    grace = int(pod.spec["terminationGracePeriodSeconds"])
    assert proc.wait(timeout=grace) == 0, stderr_path.read_text()[-2000:]
    checkpoint_dir = pod.host_path(sidecar, _config(pod, sidecar)["checkpoint_dir"])
    assert any(checkpoint_dir.iterdir()), "no checkpoint written to the checkpoints volume"

    # The kubelet restarts a sidecar in place and the pod's emptyDirs stay: it resumes from
    # the checkpoint on its volume, so what the app wrote meanwhile arrives, nothing twice.
    _simulate(log_file, count=MORE, start_seq=LINES)
    restarted = collector_proc(knobs)
    assert _wait_for_probe(pod.probe_url(sidecar, "startupProbe"), 1.0, 30)
    entries = receiver.wait_for(LINES + MORE, timeout=60)
    time.sleep(1.0)  # a duplicate would arrive with the rest; give it the time to
    seqs = sorted(e["record"].get("seq") for e in receiver.entries())
    missing = len(set(range(1, LINES + MORE + 1)) - set(seqs))
    twice = len(seqs) - len(set(seqs))
    assert (missing, twice) == (0, 0), f"{missing} lines missing, {twice} shipped twice"
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=grace) == 0, stderr_path.read_text()[-2000:]

    changed = _snapshot(read_only) != before
    assert not changed, "the collector wrote to a read-only mount"
    stderr = stderr_path.read_text()
    assert not any(p in stderr for p in TEST_PANS), "a test PAN reached the collector's stderr"


def _config(pod: LocalPod, container: dict[str, Any]) -> dict[str, Any]:
    """The ConfigMap's config as written (container paths)."""
    docs = [doc for _, doc in load_manifests()]
    cm = find(docs, "ConfigMap", "payment-collector-config", pod.namespace)
    raw: dict[str, Any] = yaml.safe_load(cm["data"]["collector.yaml"])
    return raw


def test_the_images_default_command_reads_the_mounted_config(pod: LocalPod) -> None:
    """Without `args` in the manifest the image's CMD applies; it must name the same file."""
    sidecar = dict(pod.container("collector"))
    sidecar.pop("args", None)
    argv = pod.argv(sidecar, IMAGE)
    assert argv[:2] == ["collector", "run"]
    assert argv[2] == "--config"
    assert pod.host_path(sidecar, argv[3]).is_file(), f"{argv[3]} is not a mounted file"
