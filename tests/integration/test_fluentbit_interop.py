"""Interop with the real Fluent Bit 5.1 `in_forward` (issue 17).

Fluent Bit packs its HELO nonce and auth salt as msgpack `str` holding random bytes; the
collector used to decode them as UTF-8 and exit. Here Fluent Bit is the receiver with a
shared key, with TLS, with `security.users`, with gzip, restarted mid-stream; every line
must arrive, every chunk be acked. The binary lives beside the checkout
(`../shared/peers/fluent-bit`); without it these tests skip and say where they looked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.forward.certs import CA
from tests.forward.fluentbit import BINARY, FluentBit, find_fluent_bit, fluent_bit_version
from tests.forward.helpers import forward_config, make_chunk, metric, running
from tests.support.collector import CollectorProcess, seqs, wait_until, write_config
from tools.simulator import write_file

pytestmark = pytest.mark.integration

KEY = "interop-shared-key"
CHUNKS, SIZE = 12, 250  # 3,000 lines per test


@pytest.fixture(scope="module")
def fluent_bit_binary() -> Path:
    binary = find_fluent_bit()
    if binary is None:
        pytest.skip(f"Fluent Bit not at {BINARY} (see ../shared/peers/README.md)")
    assert fluent_bit_version(binary).startswith("Fluent Bit v5.1"), "the pinned peer is 5.1"
    return binary


@pytest.fixture
def fluent_bit(fluent_bit_binary: Path, tmp_path: Path) -> Iterator[Callable[..., FluentBit]]:
    """Factory: `fluent_bit(shared_key=..., users=..., tls_cert=...)`, started; always
    stopped at the end of the test."""
    started: list[FluentBit] = []

    def start(**kwargs: Any) -> FluentBit:
        workdir = tmp_path / f"fluent-bit-{len(started)}"
        workdir.mkdir()
        fb = FluentBit(fluent_bit_binary, workdir, **kwargs)
        started.append(fb)  # before start(): a start that fails is still cleaned up
        return fb.start()

    yield start
    for fb in started:
        fb.kill()


def keys(records: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(r["chunk"], r["seq"]) for r in records}


def every_line() -> set[tuple[int, int]]:
    return {(c, s) for c in range(CHUNKS) for s in range(SIZE)}


async def deliver(fb: FluentBit, **cfg: Any) -> None:
    """Send every chunk, wait for every ack, then for every line in Fluent Bit's output."""
    async with running(forward_config([fb.port], **cfg)) as r:
        await r.send_all(make_chunk(i, size=SIZE) for i in range(CHUNKS))
        assert await r.client.drain(60), "every chunk acked"
        assert sorted(r.acked_indexes()) == list(range(CHUNKS)), "each chunk acked once"
    assert await asyncio.to_thread(fb.wait_for, CHUNKS * SIZE), "lines missing in the output"
    assert keys(fb.records()) == every_line()


def security(**extra: str) -> dict[str, str]:
    return {"shared_key": KEY, "self_hostname": "payments-pod", **extra}


async def test_shared_key(fluent_bit: Callable[..., FluentBit]) -> None:
    fb = fluent_bit(shared_key=KEY)
    await deliver(fb, security=security())
    assert fb.count() == CHUNKS * SIZE, "no chunk sent twice"


async def test_shared_key_and_tls(fluent_bit: Callable[..., FluentBit], tmp_path: Path) -> None:
    ca = CA(tmp_path, "interop-ca")
    cert, key = ca.issue("fluent-bit", server=True)
    fb = fluent_bit(shared_key=KEY, tls_cert=cert, tls_key=key)
    tls = {"enabled": True, "ca_file": str(ca.cert_file)}
    await deliver(fb, security=security(), tls=tls)


async def test_shared_key_and_user_auth(
    fluent_bit: Callable[..., FluentBit], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="collector.forward")
    fb = fluent_bit(shared_key=KEY, users={"shipper": "user-pw", "other": "other-pw"})
    await deliver(fb, security=security(username="shipper", password="user-pw"))

    wrong = forward_config([fb.port], security=security(username="shipper", password="nope"))
    async with running(wrong) as r:
        await r.client.send(make_chunk(CHUNKS))
        server = f"127.0.0.1:{fb.port}"
        assert await asyncio.to_thread(
            wait_until,
            lambda: (
                metric("collector_forward_chunk_failures_total", server=server, reason="auth") >= 2
            ),
            30,
        ), "a wrong password is refused and retried"
        assert r.acked == []
        assert r.task is not None and not r.task.done()
    assert any("refused the handshake" in rec.getMessage() for rec in caplog.records)
    assert not any("nope" in rec.getMessage() for rec in caplog.records), "password logged"


@pytest.mark.parametrize("with_key", [False, True], ids=["plain", "shared-key"])
async def test_gzip_with_acks(fluent_bit: Callable[..., FluentBit], with_key: bool) -> None:
    fb = fluent_bit(shared_key=KEY if with_key else None)
    await deliver(fb, compress="gzip", **({"security": security()} if with_key else {}))


async def test_wrong_shared_key_is_refused_and_the_client_lives_on(
    fluent_bit: Callable[..., FluentBit],
) -> None:
    fb = fluent_bit(shared_key=KEY)
    server = f"127.0.0.1:{fb.port}"
    cfg = forward_config([fb.port], security={"shared_key": "not-the-key"})
    async with running(cfg) as r:
        await r.client.send(make_chunk(0))
        assert await asyncio.to_thread(
            wait_until,
            lambda: (
                metric("collector_forward_chunk_failures_total", server=server, reason="auth") >= 2
            ),
            30,
        )
        assert r.acked == [] and r.task is not None and not r.task.done()
    assert fb.count() == 0


async def test_receiver_restarted_mid_stream(fluent_bit: Callable[..., FluentBit]) -> None:
    """Fluent Bit stopped (SIGTERM: it flushes what it acked) while chunks flow, and started
    again on the same port: the chunks sent meanwhile wait and go through; every line
    arrives; only chunks unacked at the stop may arrive twice."""
    fb = fluent_bit(shared_key=KEY)
    server = f"127.0.0.1:{fb.port}"
    cfg = forward_config([fb.port], security=security(), max_chunks_in_flight=2)
    chunks = [make_chunk(i, size=SIZE) for i in range(CHUNKS)]
    half = CHUNKS // 2

    def refused() -> float:
        return metric("collector_forward_chunk_failures_total", server=server, reason="connect")

    async with running(cfg) as r:
        await r.send_all(chunks[:half])
        assert await r.client.drain(60), "the first half acked before the stop"
        await asyncio.to_thread(fb.stop)
        before = refused()
        sending = asyncio.create_task(r.send_all(chunks[half:]))
        assert await asyncio.to_thread(wait_until, lambda: refused() >= before + 2, 60), (
            "the client kept trying while the receiver was down"
        )
        assert not sending.done(), "sending waits: the in-flight bound holds"
        await asyncio.to_thread(fb.start)
        await sending
        assert await r.client.drain(90), "every chunk acked after the restart"
        assert sorted(r.acked_indexes()) == list(range(CHUNKS))
    assert await asyncio.to_thread(fb.wait_for, CHUNKS * SIZE)
    assert keys(fb.records()) == every_line()


def test_collector_process_ships_to_fluent_bit_with_shared_key_and_tls(
    tmp_path: Path,
    fluent_bit: Callable[..., FluentBit],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    """Issue 17 as reported: `collector run` against Fluent Bit with a shared key and TLS
    exited with status 1 within two seconds. Now every line arrives and it stops cleanly."""
    ca = CA(tmp_path, "interop-ca")
    cert, key = ca.issue("fluent-bit", server=True)
    fb = fluent_bit(shared_key=KEY, tls_cert=cert, tls_key=key)
    config = write_config(
        tmp_path,
        fb.port,
        forward={
            "security": security(),
            "tls": {"enabled": True, "ca_file": str(ca.cert_file)},
            "compress": "gzip",
        },
    )
    write_file(str(tmp_path / "logs" / "payment.log"), 5000, seed=17)
    proc = collector_proc(config)
    assert wait_until(lambda: fb.count() >= 5000, 120), "not every line reached Fluent Bit"
    assert proc.proc is not None and proc.proc.poll() is None, "the collector exited"
    assert proc.terminate() == 0
    got = seqs(fb.records())
    assert set(got) == set(range(1, 5001))
