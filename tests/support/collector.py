"""The tests' side of running `collector run` as a real process (tools/runner.py) against
files and a real receiver: checkpoints, metrics, which simulator lines arrived."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from tools.runner import (
    START_TIMEOUT,
    STOP_TIMEOUT,
    CollectorProcess,
    wait_until,
    write_config,
)

__all__ = [
    "DELIVERY_TIMEOUT",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "CollectorProcess",
    "checkpoint_offsets",
    "checkpointed",
    "free_port",
    "missing",
    "scrape",
    "seqs",
    "wait_until",
    "write_config",
]

# How long a test waits for records to arrive (it waits for the event; this bounds a
# broken run).
DELIVERY_TIMEOUT = 120.0


def checkpoint_offsets(state: Path) -> dict[str, int]:
    """path -> acked offset, from the collector's checkpoint file."""
    data = json.loads((state / "checkpoints.json").read_text())
    return {e["path"]: e["offset"] for e in data["files"]}


def checkpointed(tmp_path: Path, log: Path) -> bool:
    """Whether the checkpoint file holds `log` at its full size (absent while not written)."""
    try:
        return checkpoint_offsets(tmp_path / "state").get(str(log)) == log.stat().st_size
    except (OSError, ValueError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int, path: str = "/metrics") -> str:
    """The body of GET `path` on the metrics endpoint, or "" while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
            body: bytes = resp.read()
            return body.decode()
    except OSError:
        return ""


def seqs(records: list[dict[str, Any]]) -> Counter[int]:
    """How often each simulator `seq` arrived."""
    return Counter(r["seq"] for r in records if "seq" in r)


def missing(got: Counter[int], count: int) -> int:
    """How many of the seqs 1..count never arrived."""
    return sum(1 for s in range(1, count + 1) if s not in got)
