"""Run the real Fluent Bit as a Forward receiver (`in_forward` → `out_file`).

The binary is the one every checkout and CI have beside the repository
(`../shared/peers/fluent-bit`, see that folder's README); someone's own clone may not have
it, so `find_fluent_bit` returns None and the tests that need it skip with the reason.
Records are written one JSON object per line (`out_file` format `plain`), so a test counts
lines and reads `chunk`/`seq` back.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.receiver import REPO

BINARY = REPO.parent / "shared" / "peers" / "fluent-bit"


def find_fluent_bit() -> Path | None:
    return BINARY if BINARY.is_file() and os.access(BINARY, os.X_OK) else None


def fluent_bit_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, timeout=30).stdout
    return out.decode(errors="replace").splitlines()[0].strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class FluentBit:
    """One Fluent Bit process; `stop()` and `start()` keep the port and the output file,
    so a test can restart the receiver where the collector expects it."""

    binary: Path
    workdir: Path
    shared_key: str | None = None
    self_hostname: str = "aggregator"
    users: dict[str, str] = field(default_factory=dict)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def out(self) -> Path:
        return self.workdir / "records.jsonl"

    @property
    def log(self) -> Path:
        return self.workdir / "fluent-bit.log"

    def config(self) -> str:
        lines = [
            "[SERVICE]",
            "    flush 0.2",
            "    grace 10",
            "    log_level info",
            "[INPUT]",
            "    name forward",
            "    listen 127.0.0.1",
            f"    port {self.port}",
        ]
        if self.shared_key is not None:
            lines += [
                f"    shared_key {self.shared_key}",
                f"    self_hostname {self.self_hostname}",
            ]
        lines += [f"    security.users {user} {pw}" for user, pw in self.users.items()]
        if self.tls_cert is not None:
            lines += [
                "    tls on",
                "    tls.verify off",
                f"    tls.crt_file {self.tls_cert}",
                f"    tls.key_file {self.tls_key}",
            ]
        lines += [
            "[OUTPUT]",
            "    name file",
            "    match *",
            f"    path {self.workdir}",
            f"    file {self.out.name}",
            "    format plain",
        ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 60.0) -> FluentBit:
        """Start and wait until this start's `listening on` line is in the log."""
        conf = self.workdir / "fluent-bit.conf"
        conf.write_text(self.config())
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [str(self.binary), "-c", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        want = f"listening on 127.0.0.1:{self.port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if want in self._log_since_start():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self._log_since_start()[-2000:]
        self.kill()
        raise RuntimeError(f"Fluent Bit did not listen on {self.port}: {tail}")

    def _log_since_start(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.rsplit(f"--- start {self.starts}\n", 1)[-1]

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM: Fluent Bit flushes what it buffered (and acked) within `grace`."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        self._signal(signal.SIGKILL, 30.0)

    def _signal(self, sig: int, timeout: float) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def count(self) -> int:
        if not self.out.exists():
            return 0
        return self.out.read_bytes().count(b"\n")

    def records(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_bytes().splitlines() if line]

    def wait_for(self, count: int, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.count() >= count

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
