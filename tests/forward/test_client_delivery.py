"""The client against the real FluentServer: modes, acks, outages, failover."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
from collections.abc import Callable

import msgpack  # type: ignore[import-untyped]
import pytest

from tests.forward.helpers import (
    BASE_NS,
    expected_keys,
    forward_config,
    make_chunk,
    metric,
    missing_chunks,
    payment_record,
    record_counts,
    running,
    wait_entries,
)
from tests.forward.proxy import FaultProxy
from tools.receiver import FluentReceiver

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("compress", ["none", "gzip"])
async def test_each_mode_is_decoded_with_nanoseconds_intact(
    receiver: FluentReceiver, compress: str
) -> None:
    cfg = forward_config([receiver.port], compress=compress)
    chunks = [make_chunk(i, size=30) for i in range(5)]
    async with running(cfg) as r:
        await r.send_all(chunks)
        assert await r.client.drain(20)
    entries = await wait_entries(receiver, 150)

    assert len(entries) == 150
    assert sorted(r.acked_indexes()) == list(range(5)), "every chunk acked exactly once"
    assert record_counts(entries) == {k: 1 for k in expected_keys(5, 30)}
    for e in entries:
        rec = e["record"]
        want_ns = BASE_NS + rec["chunk"] * 1000 + rec["seq"]
        assert e["tag"] == "app.payments"
        assert e["time"] == [want_ns // 1_000_000_000, want_ns % 1_000_000_000]
        assert rec == payment_record(rec["chunk"], rec["seq"])


async def test_receiver_started_late_gets_everything(
    fluent_server: Callable[..., FluentReceiver],
) -> None:
    receiver = fluent_server()
    port = receiver.port
    receiver.kill()  # keep the port, nobody listening
    cfg = forward_config([port])
    async with running(cfg) as r:
        sending = asyncio.create_task(r.send_all(make_chunk(i) for i in range(6)))
        await asyncio.sleep(0.8)
        failures_while_down = metric(
            "collector_forward_chunk_failures_total", server=f"127.0.0.1:{port}", reason="connect"
        )
        assert r.acked == [], "nothing can be acked while the receiver is down"
        assert r.client.pending <= cfg.max_chunks_in_flight
        await asyncio.to_thread(receiver.start)
        await sending
        assert await r.client.drain(20)
    entries = await wait_entries(receiver, 120)
    assert failures_while_down >= 2, "connect failures are counted and retried"
    assert sorted(r.acked_indexes()) == list(range(6))
    assert record_counts(entries) == {k: 1 for k in expected_keys(6, 20)}


async def test_receiver_killed_mid_stream_duplicates_only_unacked(
    receiver: FluentReceiver,
) -> None:
    cfg = forward_config([receiver.port], max_chunks_in_flight=3)
    total = 30
    async with running(cfg) as r:

        async def stream() -> None:
            for i in range(total):
                await r.client.send(make_chunk(i))
                await asyncio.sleep(0.01)

        sending = asyncio.create_task(stream())
        while len(r.acked) < 8:
            await asyncio.sleep(0.005)
        receiver.kill()
        acked_before_kill = set(r.acked_indexes())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(receiver.start)
        await sending
        assert await r.client.drain(20)
    entries = await wait_entries(receiver, total * 20)
    counts = record_counts(entries)
    assert set(counts) == expected_keys(total, 20), missing_chunks(counts, total, 20)
    duplicated_chunks = {chunk for (chunk, _), n in counts.items() if n > 1}
    assert not duplicated_chunks & acked_before_kill, "a chunk acked before the kill came again"
    assert sorted(r.acked_indexes()) == list(range(total)), "each chunk acked exactly once"


async def test_acks_withheld_nothing_acked_bounded_then_resent(receiver: FluentReceiver) -> None:
    proxy = await FaultProxy(receiver.port).start()
    proxy.hold_replies = True
    cfg = forward_config([proxy.port], ack_timeout=0.5, max_chunks_in_flight=3)
    server = f"127.0.0.1:{proxy.port}"
    try:
        async with running(cfg) as r:
            sending = asyncio.create_task(r.send_all(make_chunk(i) for i in range(10)))
            await asyncio.sleep(2.0)
            assert r.acked == [], "no ack came back, so nothing may be acked"
            assert r.client.pending <= 3, "in-flight chunks are bounded"
            assert not sending.done(), "send() waits while the in-flight bound is reached"
            assert metric("collector_forward_chunks_retried_total", server=server) >= 3
            assert (
                metric("collector_forward_chunk_failures_total", server=server, reason="timeout")
                >= 3
            )
            proxy.hold_replies = False
            await sending
            assert await r.client.drain(20)
    finally:
        await proxy.close()
    entries = await wait_entries(receiver, 200)
    assert set(record_counts(entries)) == expected_keys(10, 20)
    assert sorted(r.acked_indexes()) == list(range(10)), "each chunk acked exactly once"
    ids = collections.Counter(sent_chunk_ids(proxy.sent))
    assert len(ids) == 10, "one chunk id per chunk, kept across resends"
    assert max(ids.values()) >= 2, "chunks were resent"


def sent_chunk_ids(connections: list[bytearray]) -> list[str]:
    """The `chunk` option of every whole message the client wrote, over all connections
    (the last message of a connection may be cut by a reset)."""
    ids = []
    for stream in connections:
        unpacker = msgpack.Unpacker(raw=False)
        unpacker.feed(bytes(stream))
        with contextlib.suppress(ValueError):
            for message in unpacker:
                ids.append(message[2]["chunk"])
    return ids


async def test_link_cut_mid_stream_resends(receiver: FluentReceiver) -> None:
    proxy = await FaultProxy(receiver.port).start()
    cfg = forward_config([proxy.port], max_chunks_in_flight=4)
    try:
        async with running(cfg) as r:

            async def stream() -> None:
                for i in range(20):
                    await r.client.send(make_chunk(i))
                    if i % 5 == 4:
                        proxy.cut()
                    await asyncio.sleep(0.01)

            await stream()
            assert await r.client.drain(20)
    finally:
        await proxy.close()
    entries = await wait_entries(receiver, 400)
    assert set(record_counts(entries)) == expected_keys(20, 20)
    assert sorted(r.acked_indexes()) == list(range(20))
    assert proxy.connections >= 2, "the client reconnected after the cuts"


async def test_two_receivers_one_killed_traffic_moves(
    fluent_server: Callable[..., FluentReceiver],
) -> None:
    a, b = fluent_server(), fluent_server()
    cfg = forward_config([a.port, b.port], max_chunks_in_flight=4)
    total = 30
    async with running(cfg) as r:
        for i in range(10):
            await r.client.send(make_chunk(i))
        assert await r.client.drain(20)
        assert a.entries() and b.entries(), "both receivers share the load"
        a.kill()
        b_before = len(b.entries())
        for i in range(10, total):
            await r.client.send(make_chunk(i))
        assert await r.client.drain(20)
    got_b = await wait_entries(b, b_before + 200)
    counts = record_counts(a.entries() + got_b)
    assert set(counts) == expected_keys(total, 20), missing_chunks(counts, total, 20)
    assert len(got_b) - b_before >= 200, "the survivor took the traffic after the kill"
    assert sorted(r.acked_indexes()) == list(range(total))


async def test_weights_split_traffic(fluent_server: Callable[..., FluentReceiver]) -> None:
    a, b = fluent_server(), fluent_server()
    cfg = forward_config(
        [],
        servers=[
            {"host": "127.0.0.1", "port": a.port, "weight": 3},
            {"host": "127.0.0.1", "port": b.port, "weight": 1},
        ],
    )
    async with running(cfg) as r:
        # Wait until both are connected, so the split reflects weights, not connect order.
        while metric("collector_forward_server_up", server=f"127.0.0.1:{b.port}") < 1 or (
            metric("collector_forward_server_up", server=f"127.0.0.1:{a.port}") < 1
        ):
            await asyncio.sleep(0.01)
        await r.send_all(make_chunk(i, size=5) for i in range(40))
        assert await r.client.drain(20)
    got_a = len(await wait_entries(a, 150))
    got_b = len(await wait_entries(b, 50))
    assert (got_a, got_b) == (150, 50)


async def test_standby_used_only_when_primary_down(
    fluent_server: Callable[..., FluentReceiver],
) -> None:
    primary, standby = fluent_server(), fluent_server()
    cfg = forward_config(
        [],
        servers=[
            {"host": "127.0.0.1", "port": primary.port},
            {"host": "127.0.0.1", "port": standby.port, "standby": True},
        ],
    )
    async with running(cfg) as r:
        await r.send_all(make_chunk(i) for i in range(5))
        assert await r.client.drain(20)
        assert standby.entries() == [], "the standby is idle while the primary is up"
        primary.kill()
        await r.send_all(make_chunk(i) for i in range(5, 10))
        assert await r.client.drain(20)
    counts = record_counts(primary.entries() + await wait_entries(standby, 100))
    assert set(counts) == expected_keys(10, 20), missing_chunks(counts, 10, 20)
    assert sorted(r.acked_indexes()) == list(range(10))


async def test_without_ack_chunks_count_as_delivered_once_written(
    receiver: FluentReceiver,
) -> None:
    cfg = forward_config([receiver.port], require_ack=False)
    async with running(cfg) as r:
        await r.send_all(make_chunk(i) for i in range(5))
        assert await r.client.drain(20)
    entries = await wait_entries(receiver, 100)
    assert record_counts(entries) == {k: 1 for k in expected_keys(5, 20)}
    assert sorted(r.acked_indexes()) == list(range(5))


async def test_retry_limit_drops_counted_and_reported(receiver: FluentReceiver) -> None:
    proxy = await FaultProxy(receiver.port).start()
    proxy.hold_replies = True
    cfg = forward_config([proxy.port], ack_timeout=0.3, retry_limit=2)
    dropped_before = metric("collector_forward_chunks_dropped_total")
    try:
        async with running(cfg) as r:
            await r.send_all(make_chunk(i) for i in range(2))
            assert await r.client.drain(10), "dropped chunks leave the pending set"
    finally:
        await proxy.close()
    assert r.acked == [], "a dropped chunk is never reported as acked"
    assert sorted(c.tickets[0].seq for c in r.dropped) == [0, 1]
    assert metric("collector_forward_chunks_dropped_total") - dropped_before == 2


async def test_hostname_with_several_addresses_is_several_servers_re_resolved(
    fluent_server: Callable[..., FluentReceiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    one = fluent_server()
    two = fluent_server(["--host", "127.0.0.2"], port=one.port)
    addresses = {"127.0.0.1", "127.0.0.2"}

    async def resolve(self: object, server: object) -> set[str]:
        return set(addresses)

    monkeypatch.setattr("collector.forward.client.ForwardClient._resolve", resolve)
    cfg = forward_config(
        [], servers=[{"host": "aggregators.test", "port": one.port}], resolve_interval=0.1
    )
    names = [f"aggregators.test/{a}:{one.port}" for a in ("127.0.0.1", "127.0.0.2")]
    async with running(cfg) as r:
        while not all(metric("collector_forward_server_up", server=n) for n in names):
            await asyncio.sleep(0.01)
        await r.send_all(make_chunk(i) for i in range(10))
        assert await r.client.drain(20)
        assert one.entries() and two.entries(), "both addresses took traffic"
        addresses.discard("127.0.0.1")  # the pod behind .1 went away
        while "127.0.0.1" in {addr for _, addr in r.client._pool.endpoints}:
            await asyncio.sleep(0.01)
        one_before = len(one.entries())
        await r.send_all(make_chunk(i) for i in range(10, 20))
        assert await r.client.drain(20)
        assert len(one.entries()) == one_before, "a removed address gets nothing new"
    counts = record_counts(one.entries() + await wait_entries(two, 400 - one_before))
    assert set(counts) == expected_keys(20, 20)
    assert sorted(r.acked_indexes()) == list(range(20))


async def test_real_name_resolution(receiver: FluentReceiver) -> None:
    cfg = forward_config([], servers=[{"host": "localhost", "port": receiver.port}])
    async with running(cfg) as r:
        await r.send_all(make_chunk(i) for i in range(3))
        assert await r.client.drain(20)
    assert record_counts(await wait_entries(receiver, 60)) == {k: 1 for k in expected_keys(3, 20)}


async def test_one_connection_is_reused_with_keepalive_set(receiver: FluentReceiver) -> None:
    proxy = await FaultProxy(receiver.port).start()
    cfg = forward_config([proxy.port], heartbeat_interval=2.0)
    try:
        async with running(cfg) as r:
            await r.send_all(make_chunk(i) for i in range(20))
            assert await r.client.drain(20)
            (ep,) = r.client._pool.all()
            assert ep.conn is not None
            sock = ep.conn.writer.get_extra_info("socket")
            options = (
                sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            )
    finally:
        await proxy.close()
    assert proxy.connections == 1, "chunks share one long-lived connection"
    assert options == (1, 2, 2, 3), "TCP keepalive probes detect a silently dead peer"
    assert len(await wait_entries(receiver, 400)) == 400
