"""Shared key, user auth and TLS against the real FluentServer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.forward.certs import CA
from tests.forward.helpers import (
    expected_keys,
    forward_config,
    make_chunk,
    metric,
    record_counts,
    running,
    wait_entries,
)
from tools.receiver import FluentReceiver

pytestmark = pytest.mark.integration

KEY = "s3cret-shared-key"
WRONG = "not-the-key-at-all"


def keyed(fluent_server: Callable[..., FluentReceiver], *extra: str) -> FluentReceiver:
    return fluent_server(["--shared-key", KEY, "--server-hostname", "aggregator", *extra])


async def test_shared_key_right_delivers(fluent_server: Callable[..., FluentReceiver]) -> None:
    receiver = keyed(fluent_server)
    cfg = forward_config(
        [receiver.port], security={"shared_key": KEY, "self_hostname": "payments-pod"}
    )
    async with running(cfg) as r:
        await r.send_all(make_chunk(i) for i in range(3))
        assert await r.client.drain(15)
    assert record_counts(await wait_entries(receiver, 60)) == {k: 1 for k in expected_keys(3, 20)}


async def test_shared_key_wrong_is_refused_retried_and_recovers_from_the_file(
    fluent_server: Callable[..., FluentReceiver],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="collector.forward")
    receiver = keyed(fluent_server)
    key_file = tmp_path / "shared_key"
    key_file.write_text(WRONG + "\n")
    cfg = forward_config(
        [receiver.port], security={"shared_key_file": str(key_file), "self_hostname": "pod"}
    )
    server = f"127.0.0.1:{receiver.port}"
    async with running(cfg) as r:
        sending = asyncio.create_task(r.send_all(make_chunk(i) for i in range(3)))
        await asyncio.sleep(1.0)
        assert r.acked == [], "nothing may be acked with a wrong key"
        assert receiver.entries() == [], "the receiver took nothing"
        attempts = metric("collector_forward_chunk_failures_total", server=server, reason="auth")
        assert attempts >= 2, "the handshake is retried"
        messages = [rec.getMessage() for rec in caplog.records]
        assert any(server in m and "shared key mismatch" in m for m in messages)
        leaked = any(WRONG in m or KEY in m for m in messages)
        assert not leaked, "a shared key appeared in a log message"
        # The Secret file is re-read on every connect: fixing it fixes delivery.
        key_file.write_text(KEY + "\n")
        await sending
        assert await r.client.drain(15)
    assert record_counts(await wait_entries(receiver, 60)) == {k: 1 for k in expected_keys(3, 20)}


async def test_user_and_password(
    fluent_server: Callable[..., FluentReceiver],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="collector.forward")
    receiver = keyed(fluent_server, "--users", "shipper:pw-from-env")
    monkeypatch.setenv("FWD_PASSWORD", "pw-from-env")
    good = forward_config(
        [receiver.port],
        security={"shared_key": KEY, "username": "shipper", "password_env": "FWD_PASSWORD"},
    )
    async with running(good) as r:
        await r.send_all([make_chunk(0)])
        assert await r.client.drain(15)
    assert len(await wait_entries(receiver, 20)) == 20

    bad = forward_config(
        [receiver.port],
        security={"shared_key": KEY, "username": "shipper", "password": "wrong-password"},
    )
    async with running(bad) as r:
        await r.client.send(make_chunk(1))
        await asyncio.sleep(0.5)
        assert r.acked == []
    messages = [rec.getMessage() for rec in caplog.records]
    assert any("username/password mismatch" in m for m in messages)
    assert not any("wrong-password" in m for m in messages), "a password was logged"
    assert len(receiver.entries()) == 20


async def test_server_wants_a_key_the_client_lacks(
    fluent_server: Callable[..., FluentReceiver], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="collector.forward")
    receiver = keyed(fluent_server)
    async with running(forward_config([receiver.port])) as r:
        await r.client.send(make_chunk(0))
        await asyncio.sleep(0.5)
        assert r.acked == []
    assert any("set forward.security" in rec.getMessage() for rec in caplog.records)
    assert receiver.entries() == []


@pytest.fixture
def ca(tmp_path: Path) -> CA:
    return CA(tmp_path, "test-ca")


def tls_server(fluent_server: Callable[..., FluentReceiver], ca: CA, *extra: str) -> FluentReceiver:
    cert, key = ca.issue("receiver", server=True)
    return fluent_server(["--tls-cert", str(cert), "--tls-key", str(key), *extra])


@pytest.mark.parametrize("server_name", [None, "localhost"])
async def test_tls_with_the_test_ca_delivers(
    fluent_server: Callable[..., FluentReceiver], ca: CA, server_name: str | None
) -> None:
    receiver = tls_server(fluent_server, ca)
    tls = {"enabled": True, "ca_file": str(ca.cert_file)}
    if server_name:
        tls["server_name"] = server_name
    async with running(forward_config([receiver.port], tls=tls)) as r:
        await r.send_all(make_chunk(i) for i in range(3))
        assert await r.client.drain(15)
    assert record_counts(await wait_entries(receiver, 60)) == {k: 1 for k in expected_keys(3, 20)}


async def test_tls_wrong_ca_is_refused(
    fluent_server: Callable[..., FluentReceiver], ca: CA, tmp_path: Path
) -> None:
    receiver = tls_server(fluent_server, ca)
    other = CA(tmp_path, "other-ca")
    cfg = forward_config([receiver.port], tls={"enabled": True, "ca_file": str(other.cert_file)})
    async with running(cfg) as r:
        await r.client.send(make_chunk(0))
        await asyncio.sleep(0.6)
        assert r.acked == []
    server = f"127.0.0.1:{receiver.port}"
    assert metric("collector_forward_chunk_failures_total", server=server, reason="tls") >= 1
    assert receiver.entries() == []


async def test_tls_wrong_server_name_is_refused(
    fluent_server: Callable[..., FluentReceiver], ca: CA
) -> None:
    receiver = tls_server(fluent_server, ca)
    tls = {"enabled": True, "ca_file": str(ca.cert_file), "server_name": "aggregator.example"}
    async with running(forward_config([receiver.port], tls=tls)) as r:
        await r.client.send(make_chunk(0))
        await asyncio.sleep(0.6)
        assert r.acked == []
    assert receiver.entries() == []


async def test_mutual_tls_and_shared_key_together(
    fluent_server: Callable[..., FluentReceiver], ca: CA
) -> None:
    receiver = tls_server(
        fluent_server,
        ca,
        "--tls-ca", str(ca.cert_file), "--tls-require-client-cert",
        "--shared-key", KEY, "--server-hostname", "aggregator",
    )  # fmt: skip
    cert, key = ca.issue("payments-pod", server=False)
    tls = {
        "enabled": True,
        "ca_file": str(ca.cert_file),
        "cert_file": str(cert),
        "key_file": str(key),
    }
    cfg = forward_config([receiver.port], tls=tls, security={"shared_key": KEY})
    async with running(cfg) as r:
        await r.send_all(make_chunk(i) for i in range(2))
        assert await r.client.drain(15)
    assert len(await wait_entries(receiver, 40)) == 40

    no_cert = {"enabled": True, "ca_file": str(ca.cert_file)}
    cfg = forward_config([receiver.port], tls=no_cert, security={"shared_key": KEY})
    async with running(cfg) as r:
        await r.client.send(make_chunk(5))
        await asyncio.sleep(0.6)
        assert r.acked == [], "without a client certificate nothing is accepted"
    assert len(receiver.entries()) == 40
    server = f"127.0.0.1:{receiver.port}"
    assert metric("collector_forward_chunk_failures_total", server=server, reason="tls") >= 1
