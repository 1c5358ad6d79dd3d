"""Nothing a receiver sends can stop the client (issue 17).

Each kind of bad reply at each point of the exchange (HELO, PONG, ack), from a stand-in
receiver that misbehaves on its first connections and then behaves: the connection is
closed and counted under a reason, the log names the server and never the peer's bytes,
the client keeps running, every chunk is delivered and nothing is acked that the receiver
did not store.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import pytest

from collector.forward.encoder import chunk_key
from tests.forward.certs import CA
from tests.forward.helpers import forward_config, make_chunk, metric, running
from tests.forward.standin import FAULTS, Fault, Packing, StandIn

KEY = "fault-injection-key"


def delivered_once_each(server: StandIn, chunks: int, size: int) -> bool:
    """Every record of every chunk reached the receiver (duplicates allowed only for
    chunks whose ack was lost)."""
    got = {(r["chunk"], r["seq"]) for r in server.records()}
    return got == {(c, s) for c in range(chunks) for s in range(size)}


@pytest.mark.parametrize("packing", ["fluentd", "fluent-bit"])
@pytest.mark.parametrize(("point", "kind"), list(FAULTS), ids=[f"{p}-{k}" for p, k in FAULTS])
async def test_a_bad_reply_closes_one_connection_and_everything_is_delivered(
    point: str, kind: str, packing: Packing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="collector.forward")
    faults = [Fault(point, kind), Fault(point, kind)]  # type: ignore[arg-type]
    server = await StandIn(shared_key=KEY, packing=packing, faults=faults).start()
    name = f"127.0.0.1:{server.port}"
    reason = FAULTS[(point, kind)]
    try:
        cfg = forward_config([server.port], security={"shared_key": KEY, "self_hostname": "pod"})
        async with running(cfg) as r:
            await r.send_all(make_chunk(i, size=5) for i in range(3))
            assert await r.client.drain(60), "every chunk is acked once the receiver behaves"
            assert r.task is not None and not r.task.done(), "the client keeps running"
            assert sorted(r.acked_indexes()) == [0, 1, 2], "each chunk acked exactly once"
            acked = {chunk_key(c.chunk_id) for c in r.acked}
    finally:
        await server.close()
    assert server.faults == [], "both faulty connections happened"
    assert delivered_once_each(server, 3, 5)
    assert acked <= {c.chunk_id for c in server.received}, "acked only what was stored"
    assert metric("collector_forward_chunk_failures_total", server=name, reason=reason) >= 2
    messages = [rec.getMessage() for rec in caplog.records]
    assert any(name in m and reason in m for m in messages), "logged with server and reason"
    assert not any("payload" in m or "\\xc1" in m or "\udcc1" in m for m in messages), (
        "a log line quoted the peer's bytes"
    )
    assert not any(rec.levelno >= logging.ERROR for rec in caplog.records), (
        "a peer's bytes are a warning, not an error of ours"
    )


@pytest.mark.parametrize("packing", ["fluentd", "fluent-bit"])
@pytest.mark.parametrize("with_user", [False, True])
async def test_handshake_with_binary_nonce_and_salt_as_each_receiver_packs_them(
    packing: Packing, with_user: bool
) -> None:
    """Fluent Bit packs its random nonce and salt as `str`, Fluentd as `bin`; both send an
    auth salt whether or not they check users. The old client crashed on the first and
    refused the second unless a password was configured."""
    users = {"shipper": "pw"} if with_user else {}
    security = {"shared_key": KEY, "self_hostname": "pod"}
    if with_user:
        security |= {"username": "shipper", "password": "pw"}
    server = await StandIn(shared_key=KEY, packing=packing, users=users).start()
    try:
        async with running(forward_config([server.port], security=security)) as r:
            await r.send_all(make_chunk(i, size=5) for i in range(3))
            assert await r.client.drain(30)
    finally:
        await server.close()
    assert delivered_once_each(server, 3, 5)
    assert server.connections == 1


async def test_a_user_the_server_wants_but_we_lack_is_refused_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="collector.forward")
    server = await StandIn(shared_key=KEY, users={"shipper": "pw"}).start()
    try:
        cfg = forward_config([server.port], security={"shared_key": KEY})
        async with running(cfg) as r:
            await r.client.send(make_chunk(0))
            deadline = asyncio.get_running_loop().time() + 30
            while server.connections < 2 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            assert r.acked == []
    finally:
        await server.close()
    assert any("username/password mismatch" in rec.getMessage() for rec in caplog.records)
    assert server.received == []


async def test_fluentd_deny_keepalive_one_chunk_per_connection_without_failures() -> None:
    """Fluentd with `deny_keepalive` says `keepalive: false` in its HELO and closes after
    answering one message: the client sends one chunk per connection and reconnects at
    once, without counting a failure or backing off."""
    server = await StandIn(shared_key=KEY, packing="fluentd", keepalive=False).start()
    name = f"127.0.0.1:{server.port}"
    try:
        cfg = forward_config(
            [server.port], security={"shared_key": KEY}, retry_initial=5.0, retry_max=10.0
        )
        async with running(cfg) as r:
            await r.send_all(make_chunk(i, size=5) for i in range(8))
            assert await r.client.drain(30), "a backoff of 5 s per chunk would miss this"
    finally:
        await server.close()
    assert delivered_once_each(server, 8, 5)
    assert len(server.received) == 8, "no chunk sent twice"
    assert server.connections >= 8
    for reason in ("closed", "protocol", "auth"):
        assert metric("collector_forward_chunk_failures_total", server=name, reason=reason) == 0


async def test_a_tls_error_mid_stream_closes_one_connection(tmp_path: Path) -> None:
    """Bytes that break the TLS layer after the handshake (an ack's place): reason `tls`,
    the chunk is resent, the client lives on."""
    ca = CA(tmp_path, "fault-ca")
    cert, key = ca.issue("standin", server=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    faults = [Fault("ack", "tls-garbage")]
    server = await StandIn(shared_key=KEY, packing="fluent-bit", faults=faults).start(tls=tls)
    name = f"127.0.0.1:{server.port}"
    try:
        cfg = forward_config(
            [server.port],
            security={"shared_key": KEY, "self_hostname": "pod"},
            tls={"enabled": True, "ca_file": str(ca.cert_file)},
        )
        async with running(cfg) as r:
            await r.send_all(make_chunk(i, size=5) for i in range(3))
            assert await r.client.drain(60)
            assert r.task is not None and not r.task.done()
            assert sorted(r.acked_indexes()) == [0, 1, 2]
    finally:
        await server.close()
    assert server.faults == []
    assert delivered_once_each(server, 3, 5)
    assert metric("collector_forward_chunk_failures_total", server=name, reason="tls") >= 1
