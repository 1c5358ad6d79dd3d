"""`collector run` against a receiver that sends every kind of bad reply (issue 17).

The process must stay up through all of them, `/readyz` must say "not ready" while
nothing is acked and "ready" once the receiver behaves, and every line must arrive with
its offset checkpointed only after its ack.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.forward.fluentbit import free_port
from tests.forward.standin import FAULTS, Fault, StandIn
from tests.support.collector import CollectorProcess, checkpoint_offsets, seqs, write_config
from tools.simulator import write_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "process-fault-key"
LINES = 2000


def readyz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


async def until(check: object, timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.1)
    return bool(check())  # type: ignore[operator]


async def test_every_bad_reply_in_turn_and_the_process_stays_up(tmp_path: Path) -> None:
    faults = [Fault(point, kind) for point, kind in FAULTS]  # type: ignore[arg-type]
    server = await StandIn(shared_key=KEY, packing="fluent-bit", faults=faults).start()
    metrics_port = free_port()
    config = write_config(
        tmp_path,
        server.port,
        forward={
            "security": {"shared_key": KEY, "self_hostname": "payments-pod"},
            "retry_max": "300ms",
        },
        metrics={"listen": f"127.0.0.1:{metrics_port}", "ready_window": "1s"},
    )
    log = tmp_path / "logs" / "payment.log"
    write_file(str(log), LINES, seed=17)
    proc = CollectorProcess(config)
    try:
        await asyncio.to_thread(proc.start)
        assert proc.proc is not None
        statuses: list[int] = []

        def faults_done() -> bool:
            statuses.append(readyz(metrics_port))
            assert proc.proc is not None and proc.proc.poll() is None, "the collector exited"
            return not server.faults

        assert await until(faults_done, 120), f"{len(server.faults)} faults never served"
        assert await until(lambda: len(seqs(server.records())) >= LINES, 120), "lines missing"
        assert await until(lambda: readyz(metrics_port) == 200, 60), "ready once acks flow"
        assert 503 in statuses, "/readyz said ready while nothing was acked"
        assert proc.proc.poll() is None
        assert await asyncio.to_thread(proc.terminate) == 0
    finally:
        proc.stop_quietly()
        await server.close()
    assert set(seqs(server.records())) == set(range(1, LINES + 1))
    assert checkpoint_offsets(tmp_path / "state")[str(log)] == log.stat().st_size
    text = proc.stderr_path.read_text(errors="replace")
    assert "payload" not in text and "\\xc1" not in text, "a log line quoted the peer's bytes"
