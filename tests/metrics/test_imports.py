"""The default path serves its metrics without prometheus_client and the stdlib HTTP stack.

Those imports cost several MiB of RSS in every pod (docs/decisions.md); only a configured
textfile directory may bring prometheus_client (its parsers) in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from tests.metrics.conftest import ROOT, free_port

HEAVY = ("prometheus_client", "wsgiref", "http.server", "urllib.request", "email")


def loaded_after(code: str) -> list[str]:
    """Which HEAVY modules a fresh interpreter has loaded after running `code`."""
    probe = (
        f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_pipeline_and_the_endpoint_loads_none_of_them() -> None:
    assert loaded_after("import collector.pipeline, collector.metrics.server, collector.cli") == []


def test_a_running_collector_with_a_default_config_loads_none_of_them(tmp_path: Path) -> None:
    """`collector run` itself: after serving /metrics (OpenMetrics, gzip) and /readyz."""
    (tmp_path / "logs").mkdir()
    port = free_port()
    config = tmp_path / "collector.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [{"name": "app", "paths": [str(tmp_path / "logs" / "*.log")]}],
                "checkpoint_dir": str(tmp_path / "checkpoints"),
                "forward": {"servers": [{"host": "127.0.0.1", "port": free_port()}]},
                "metrics": {"listen": f"127.0.0.1:{port}"},
                "metadata": {"enabled": False},
            }
        )
    )
    report = tmp_path / "modules.json"
    script = textwrap.dedent(
        f"""
        import json, os, signal, socket, sys, threading, time
        from collector import cli

        def get(path, accept):
            with socket.create_connection(("127.0.0.1", {port}), timeout=5) as s:
                s.sendall(f"GET {{path}} HTTP/1.1\\r\\nHost: x\\r\\nAccept: {{accept}}\\r\\n"
                          "Accept-Encoding: gzip\\r\\n\\r\\n".encode())
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            return data

        def probe():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if get("/readyz", "*/*").startswith(b"HTTP/1.0 200"):
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            scrape = get("/metrics", "application/openmetrics-text;version=1.0.0")
            loaded = [m for m in {HEAVY!r} if m in sys.modules]
            with open({str(report)!r}, "w") as f:
                json.dump({{"scraped": scrape.startswith(b"HTTP/1.0 200"), "loaded": loaded}}, f)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=probe, daemon=True).start()
        sys.exit(cli.main(["run", "-c", {str(config)!r}]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(report.read_text()) == {"scraped": True, "loaded": []}


def test_a_textfile_directory_brings_in_prometheus_clients_parsers_only_when_parsing() -> None:
    code = textwrap.dedent(
        """
        from collector.metrics.config import TextfileConfig
        from collector.metrics.core import Registry
        from collector.metrics.textfile import TextfileCollector
        TextfileCollector(TextfileConfig(paths=["/nonexistent/*.prom"]), Registry()).collect()
        """
    )
    assert loaded_after(code) == []
    assert "prometheus_client" in loaded_after(
        "from collector.metrics.textfile import parse_textfile\n"
        "parse_textfile('x 1\\n', lambda name: False)"
    )
