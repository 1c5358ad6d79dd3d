"""Shared fixtures: real peers started by fixtures that always stop them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from tools.receiver import FluentReceiver

_SCRUB = Redactor(RedactConfig())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """No card number in a test failure of ours: failure reports pass through the redactor.

    Tests assert on booleans where they can, but pytest's assertion rewriting and
    hypothesis' falsifying examples print values; this is the backstop for both.
    """
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        report.longrepr = _SCRUB.redact_text(str(report.longrepr))
        report.sections = [(name, _SCRUB.redact_text(text)) for name, text in report.sections]


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
