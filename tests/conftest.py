"""Shared fixtures: real peers started by fixtures that always stop them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.receiver import FluentReceiver


@pytest.fixture
def fluent_server(tmp_path: Path) -> Iterator[Callable[..., FluentReceiver]]:
    """Factory: `fluent_server(extra_args=[...])` starts a FluentServer on loopback."""
    started: list[FluentReceiver] = []

    def start(extra_args: list[str] | None = None, port: int = 0) -> FluentReceiver:
        out = tmp_path / f"received-{len(started)}.jsonl"
        receiver = FluentReceiver(out, port=port, extra_args=extra_args).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.kill()
