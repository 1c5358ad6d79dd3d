import subprocess
import sys
from pathlib import Path

import orjson

from tests.support.cards import count_pans

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        timeout=60,
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
