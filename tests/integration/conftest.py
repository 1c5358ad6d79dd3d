from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.collector import CollectorProcess


@pytest.fixture
def collector_proc() -> Iterator[Callable[..., CollectorProcess]]:
    """Factory for collector processes that are always killed at the end of the test."""
    started: list[CollectorProcess] = []

    def start(config: Path, env: dict[str, str] | None = None) -> CollectorProcess:
        proc = CollectorProcess(config, env)
        started.append(proc)  # before start(): a start that fails must still be cleaned up
        return proc.start()

    yield start
    for proc in started:
        proc.stop_quietly()
