import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.support.cards import count_pans
from tests.support.collector import (
    DELIVERY_TIMEOUT,
    START_TIMEOUT,
    STOP_TIMEOUT,
    CollectorProcess,
    checkpoint_offsets,
    wait_until,
    write_config,
)
from tools.receiver import FluentReceiver

REPO = Path(__file__).resolve().parents[1]
SIGHUP_IGNORED = "SIGHUP ignored: the config is read at start only; restart to apply a new one"


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )


def test_check_config_prints_three_key_paths_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
sources:
  - name: payment
    paths: ["/var/log/*.log"]
    format: xml
forward:
  servers: [{host: agg, port: 0}]
metrics:
  listen_on: 0.0.0.0:2020
""")
    result = cli("check-config", str(bad))
    assert result.returncode == 2
    err = result.stderr.decode()
    for path in ("sources[0].format", "forward.servers[0]", "metrics.listen_on"):
        assert path in err, f"{path} not reported"


def test_check_config_prints_effective_config_with_secrets_masked(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("""
sources: [{name: a, paths: ["/x/*.log"]}]
forward: {servers: [{host: agg}], security: {shared_key: topsecret}}
""")
    result = cli("check-config", str(good))
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "topsecret" not in out
    assert "****" in out
    assert "require_ack: true" in out


def test_run_with_invalid_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: []\n")
    assert cli("run", "--config", str(bad)).returncode == 2


def test_version() -> None:
    result = cli("version")
    assert result.returncode == 0
    assert result.stdout.startswith(b"collector ")
    assert b"pre-scan: C (" in result.stdout, "the C extension should be built"


def test_redact_filter_masks_json_and_text_lines() -> None:
    pan = "4111" + "1111" + "1111" + "1111"  # a public test card number
    lines = orjson.dumps({"msg": f"card {pan}", "amount": 12345678901234567890}) + b"\n"
    lines += f"plain text {pan} here\n".encode()
    result = cli("redact", stdin=lines)
    assert result.returncode == 0
    out = result.stdout.decode()
    assert count_pans(out) == 0, "a card number passed the filter"
    assert "12345678901234567890" in out  # big integers kept exactly
    assert out.count("\n") == 2


def test_sighup_is_logged_and_ignored_and_sigterm_still_drains(
    tmp_path: Path, fluent_server: Callable[..., FluentReceiver]
) -> None:
    receiver = fluent_server()
    config = write_config(tmp_path, receiver.port)
    log = tmp_path / "logs" / "app.log"
    log.write_bytes(b'{"seq": 1}\n')
    proc = CollectorProcess(config).start()
    try:
        assert wait_until(lambda: receiver.count() >= 1, DELIVERY_TIMEOUT), "line 1 missing"
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGHUP)
        entry = proc.wait_log(SIGHUP_IGNORED)
        assert entry["signal"] == "SIGHUP" and entry["level"] == "warning"
        with log.open("ab") as f:
            f.write(b'{"seq": 2}\n')
        assert wait_until(lambda: receiver.count() >= 2, DELIVERY_TIMEOUT), "stopped after HUP"
        assert proc.terminate() == 0
        assert checkpoint_offsets(tmp_path / "state")[str(log)] == log.stat().st_size
    finally:
        proc.stop_quietly()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_signal_during_a_slow_start_is_handled_not_fatal(
    tmp_path: Path, fluent_server: Callable[..., FluentReceiver], sig: signal.Signals
) -> None:
    """Start-up is held where it reads the downward-API labels (a FIFO here) and signalled."""
    receiver = fluent_server()
    labels = tmp_path / "labels"
    os.mkfifo(labels)
    config = write_config(tmp_path, receiver.port, metadata={"labels_file": str(labels)})
    log = tmp_path / "logs" / "app.log"
    log.write_bytes(b'{"seq": 1}\n')
    proc = CollectorProcess(config).start(wait=False)
    try:
        writer = wait_for_reader(labels, proc)
        assert proc.proc is not None
        proc.proc.send_signal(sig)
        os.write(writer, b'app="payments"\n')
        os.close(writer)  # the collector's read of the labels ends; start-up goes on
        if sig == signal.SIGHUP:
            proc.wait_log(SIGHUP_IGNORED)
            proc.wait_started()
            assert proc.terminate() == 0
        else:
            assert proc.proc.wait(STOP_TIMEOUT) == 0, "SIGTERM during start-up is a drain"
        assert receiver.count() == 1, "the line written before the signal was not shipped"
        assert receiver.records()[0]["kubernetes"]["labels"] == {"app": "payments"}
    finally:
        proc.stop_quietly()


def wait_for_reader(fifo: Path, proc: CollectorProcess) -> int:
    """A write end of `fifo`, once the collector has opened it for reading."""
    fd: list[int] = []

    def opened() -> bool:
        try:
            fd.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # ENXIO: no reader yet
            assert proc.proc is not None and proc.proc.poll() is None, "collector exited"
            return False
        return True

    assert wait_until(opened, START_TIMEOUT), "the collector never read the labels file"
    os.set_blocking(fd[0], True)
    return fd[0]


def test_a_start_up_failure_is_one_log_line_with_its_reason_and_no_traceback(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, 1, metrics={"listen": f"127.0.0.1:{port}"})
        result = cli("run", "--config", str(config))
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "Traceback" not in err
    lines = [orjson.loads(line) for line in err.splitlines()]
    failed = [e for e in lines if e["msg"].startswith("collector failed")]
    assert len(failed) == 1 and "traceback" not in failed[0]
    assert f"cannot listen on 127.0.0.1:{port}" in failed[0]["msg"]
    assert "Address already in use" in failed[0]["msg"]


def test_check_config_and_run_reject_the_same_configs_with_exit_2(tmp_path: Path) -> None:
    """What `run` would fail on, read nothing with or spin on is caught by both commands."""
    (tmp_path / "not.pem").write_text("not a certificate\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"""
sources:
  - name: app
    paths: ["{tmp_path}/logs/*.log"]
    format: regex
    tag: "app.${{nope}}"
    poll_interval: 0
    read_chunk_bytes: 0
    multiline: {{mode: start_pattern, start_pattern: "^(INFO"}}
forward:
  servers: [{{host: 127.0.0.1}}]
  tls: {{enabled: true, ca_file: {tmp_path / "not.pem"}}}
  security: {{shared_key_file: {tmp_path / "missing-key"}, username: u, password_env: UNSET_PW}}
metrics: {{listen: "no-such-host.invalid:2020"}}
pipeline: {{max_in_flight_bytes: 0, checkpoint_interval: 0}}
""")
    expected = [
        "sources[0].parser.regex:",
        "sources[0].tag:",
        "sources[0].poll_interval:",
        "sources[0].read_chunk_bytes:",
        "sources[0].multiline.start_pattern:",
        "forward.tls.ca_file:",
        "forward.security.shared_key_file:",
        "forward.security.password_env:",
        "metrics.listen:",
        "pipeline.max_in_flight_bytes:",
        "pipeline.checkpoint_interval:",
    ]
    env = {k: v for k, v in os.environ.items() if k != "UNSET_PW"}
    outputs = []
    for args in (("check-config", str(bad)), ("run", "--config", str(bad))):
        result = subprocess.run(
            [sys.executable, "-m", "collector", *args],
            capture_output=True,
            cwd=REPO,
            env=env,
            timeout=120,
        )
        err = result.stderr.decode()
        assert result.returncode == 2, (args[0], err[-2000:])
        assert "Traceback" not in err
        reported = [line.strip() for line in err.splitlines()[1:]]
        for path in expected:
            assert any(line.startswith(path) for line in reported), (args[0], path, err)
        outputs.append(reported)
    assert outputs[0] == outputs[1], "check-config and run disagree"


def test_config_errors_pass_the_redactor(tmp_path: Path) -> None:
    pan = "4111" + "1111" + "1111" + "1111"  # a public test card number
    bad = tmp_path / f"card-{pan}.yaml"
    bad.write_text(
        f"sources: [{{name: a, paths: [x], format: 'card-{pan}'}}]\n"
        "forward: {servers: [{host: h}]}\n"
    )
    result = cli("check-config", str(bad))
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "sources[0].format: Invalid enum value 'card-" in err
    leaked = pan in err  # a bool: a failure never prints the number
    assert not leaked, "a config error printed a card number"


def test_redact_command_builds_no_metrics_registry() -> None:
    # The redactor is handed its counters (collector/redact/counters.py): the filter
    # command counts nothing, so it must not import the collector's metrics at all.
    script = (
        "import sys\n"
        "from collector.cli import main\n"
        "code = main(['redact'])\n"
        "sys.stdout.flush()\n"
        "sys.exit(3 if 'collector.metrics.internal' in sys.modules else code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=b"hello\n", capture_output=True, timeout=60
    )
    assert done.returncode == 0, "collector redact imported the metrics registry"
    assert done.stdout == b"hello\n"
