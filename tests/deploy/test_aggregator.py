"""The aggregator pool in k8s/aggregator/ and the collector's view of it agree.

Fluentd itself cannot run here (not in Debian 12; RubyGems is out of reach), so its
config is checked structurally; the Forward side of the same wiring (shared key from the
aggregator's Secret, acks, the tag its <match> takes) is exercised against the real
FluentServer in test_wiring.py.
"""

from __future__ import annotations

from collector.config import Config, parse_config
from tests.deploy import fluentconf
from tests.deploy.localpod import find, labels_match, load_manifests, named_port

ALL = [doc for _, doc in load_manifests()]
DEPLOYMENT = find(ALL, "Deployment", "fluentd-aggregator", "logging")
POD = DEPLOYMENT["spec"]["template"]
FLUENTD = POD["spec"]["containers"][0]
SERVICE = find(ALL, "Service", "fluentd-aggregator", "logging")
CONF = fluentconf.parse(
    find(ALL, "ConfigMap", "fluentd-aggregator-config", "logging")["data"]["fluent.conf"]
)
FORWARD = next(d for d in CONF if d.name == "source" and d.params.get("@type") == "forward")
COLLECTOR_RAW = find(ALL, "ConfigMap", "payment-collector-config", "payments")["data"][
    "collector.yaml"
]


def _collector_config(env: dict[str, str]) -> Config:
    """The ConfigMap's config as the collector reads it, with the pod's env."""
    return parse_config(COLLECTOR_RAW, env)


def test_pool_has_several_replicas_behind_a_headless_service() -> None:
    assert DEPLOYMENT["spec"]["replicas"] >= 2
    assert SERVICE["spec"]["clusterIP"] == "None"
    assert labels_match(SERVICE["spec"]["selector"], POD["metadata"]["labels"])
    pdb = find(ALL, "PodDisruptionBudget", "fluentd-aggregator", "logging")
    assert labels_match(pdb["spec"]["selector"]["matchLabels"], POD["metadata"]["labels"])
    assert pdb["spec"]["minAvailable"] < DEPLOYMENT["spec"]["replicas"]


def test_collector_default_server_is_the_service_on_the_forward_port() -> None:
    """Without FORWARD_HOST/FORWARD_PORT (the Deployment sets neither) the collector
    dials the Service's cluster DNS name and port, which lead to in_forward's port."""
    payment = find(ALL, "Deployment", "payment-service", "payments")["spec"]["template"]
    sidecar_env = {e["name"] for e in payment["spec"]["initContainers"][0]["env"]}
    assert not {"FORWARD_HOST", "FORWARD_PORT"} & sidecar_env
    (server,) = _collector_config({}).forward.servers
    name, ns = SERVICE["metadata"]["name"], SERVICE["metadata"]["namespace"]
    assert server.host == f"{name}.{ns}.svc.cluster.local"
    (port,) = SERVICE["spec"]["ports"]
    assert server.port == port["port"]
    assert named_port(FLUENTD, port["targetPort"]) == int(FORWARD.params["port"])


def test_the_knobs_point_the_collector_elsewhere() -> None:
    config = _collector_config({"FORWARD_HOST": "10.0.0.9", "FORWARD_PORT": "24300"})
    (server,) = config.forward.servers
    assert (server.host, server.port) == ("10.0.0.9", 24300)


def test_in_forward_checks_the_shared_key_from_the_mounted_secret() -> None:
    security = FORWARD.child("security")
    assert security is not None, "in_forward without <security> accepts anyone"
    key_expr = security.params["shared_key"]
    mounts = {m["name"]: m["mountPath"] for m in FLUENTD["volumeMounts"]}
    volume = next(v for v in POD["spec"]["volumes"] if v["name"] == "forward-shared-key")
    secret = find(ALL, "Secret", volume["secret"]["secretName"], "logging")
    (key,) = secret["stringData"]
    assert f"File.read('{mounts['forward-shared-key']}/{key}')" in key_expr
    assert "self_hostname" in security.params


def test_both_namespaces_hold_the_same_shared_key() -> None:
    """The collector presents one, the aggregator expects the other: they must match."""
    payment = find(ALL, "Secret", "forward-shared-key", "payments")["stringData"]
    logging = find(ALL, "Secret", "forward-shared-key", "logging")["stringData"]
    assert payment.keys() == logging.keys() == {"shared_key"}
    assert payment["shared_key"] == logging["shared_key"]


def test_no_real_key_is_committed() -> None:
    """The repo holds the documented placeholder only; real keys are made at deploy time."""
    for doc in ALL:
        if doc["kind"] == "Secret":
            values = set(doc.get("stringData", {}).values()) | set(doc.get("data", {}).values())
            assert values == {"REPLACE-ME-see-docs-deploy-md"}, doc["metadata"]["namespace"]


def test_every_collector_tag_has_a_buffered_output() -> None:
    (source,) = _collector_config({}).sources
    tag = source.tag.replace("${source}", source.name)
    outputs = [d for d in CONF if d.name == "match" and fluentconf.tag_matches(d.arg, tag)]
    assert outputs, f"no <match> takes {tag}: Fluentd would drop the records"
    buffer = outputs[0].child("buffer")
    assert buffer is not None and buffer.params["@type"] == "file"
    buffer_mount = {m["mountPath"] for m in FLUENTD["volumeMounts"]}
    assert any(buffer.params["path"].startswith(m + "/") for m in buffer_mount)


def test_probes_use_the_monitor_agent_without_config() -> None:
    monitor = next(
        d for d in CONF if d.name == "source" and d.params.get("@type") == "monitor_agent"
    )
    assert monitor.params["include_config"] == "false", "the config holds the shared key"
    for probe in ("livenessProbe", "readinessProbe"):
        port = named_port(FLUENTD, FLUENTD[probe]["httpGet"]["port"])
        assert port == int(monitor.params["port"]), probe


def test_fluentd_tag_patterns() -> None:
    assert fluentconf.tag_matches("payments.**", "payments.payment")
    assert fluentconf.tag_matches("payments.**", "payments")
    assert fluentconf.tag_matches("payments.*", "payments.payment")
    assert not fluentconf.tag_matches("payments.*", "payments.a.b")
    assert not fluentconf.tag_matches("payments.**", "paymentsx.a")
    assert fluentconf.tag_matches("{a,b}.** c", "c")
