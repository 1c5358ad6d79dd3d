"""Fixtures of the forward tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools.receiver import FluentReceiver


@pytest.fixture
def receiver(fluent_server: Callable[..., FluentReceiver]) -> FluentReceiver:
    """One plain FluentServer (no TLS, no shared key) on a free loopback port."""
    return fluent_server()
