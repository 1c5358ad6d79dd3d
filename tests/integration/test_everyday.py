"""What the sidecar does at the rates services really log: it sleeps.

Counted, not timed: a wake-up is a voluntary context switch of the collector's threads
(/proc/PID/task/*/status), the same on a busy machine as on an idle one. An idle collector
wakes for its safety poll about once a second; a trickle of lines written one per write()
is read once per flush_interval, not once per line (benches/everyday.py measures the CPU).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.collector import (
    DELIVERY_TIMEOUT,
    CollectorProcess,
    checkpointed,
    wait_until,
    write_config,
)
from tools.receiver import FluentReceiver
from tools.simulator import PaymentLogs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WINDOW = 10.0  # seconds counted


def wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of `pid` so far."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def start_settled(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> tuple[CollectorProcess, FluentReceiver, Path, int]:
    """A collector with the product's defaults, one line through and checkpointed."""
    receiver = fluent_server()
    config = write_config(tmp_path, receiver.port, quick=False)
    log = tmp_path / "logs" / "app.log"
    log.write_bytes(b"")
    proc = collector_proc(config)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.write(fd, PaymentLogs(seed=7).line())
    assert len(receiver.wait_for(1, DELIVERY_TIMEOUT)) >= 1, "the first line did not arrive"
    assert wait_until(lambda: checkpointed(tmp_path, log), DELIVERY_TIMEOUT), (
        "the first line was not checkpointed"
    )
    time.sleep(2.0)  # let the duties that the first line woke fall asleep again
    assert proc.proc is not None
    return proc, receiver, log, fd


def test_an_idle_collector_wakes_about_once_a_second(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    proc, _, _, fd = start_settled(tmp_path, fluent_server, collector_proc)
    assert proc.proc is not None
    before = wakeups(proc.proc.pid)
    time.sleep(WINDOW)
    per_second = (wakeups(proc.proc.pid) - before) / WINDOW
    os.close(fd)
    # The safety poll (10 s idle on a local filesystem, 1 s otherwise), a liveness beat
    # every live_window/3: ~0.2-1.1. Before, ~9 (two
    # 250 ms polls, the flusher, checkpointer, watchdog and the HTTP server's poll).
    assert per_second <= 2.5, f"{per_second:.1f} wake-ups per second while idle"


def test_a_trickle_is_read_per_flush_interval_not_per_line(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    proc, receiver, _, fd = start_settled(tmp_path, fluent_server, collector_proc)
    assert proc.proc is not None
    gen = PaymentLogs(seed=8)
    rate, lines = 100, int(100 * WINDOW)
    before = wakeups(proc.proc.pid)
    started = time.monotonic()
    for i in range(lines):  # one line per write(), as a line-buffered logger writes
        os.write(fd, gen.line())
        delay = started + (i + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    per_second = (wakeups(proc.proc.pid) - before) / (time.monotonic() - started)
    os.close(fd)
    assert len(receiver.wait_for(lines + 1, DELIVERY_TIMEOUT)) >= lines + 1, "lines missing"
    # Per flush_interval (1 s): the gathered read, the flush, its ack, the checkpoint
    # write and its thread, discovery: ~13 whatever the rate. Read per line: > 100.
    assert per_second <= 30, f"{per_second:.1f} wake-ups per second at {rate} lines/s"


def _mapped_openssl(pid: int) -> list[str]:
    """OpenSSL's shared libraries (and CPython's modules over them) mapped into `pid`."""
    names = ("libssl", "libcrypto", "_ssl.", "_hashlib.")
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return sorted({line.rsplit("/", 1)[-1] for line in maps if any(n in line for n in names)})


def test_a_collector_without_tls_does_not_load_openssl(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    # ~4 MiB of RSS in every pod (collector/openssl.py); the sidecar still hashes (file
    # fingerprints) and ships, which start_settled has checked.
    proc, _, _, fd = start_settled(tmp_path, fluent_server, collector_proc)
    os.close(fd)
    assert proc.proc is not None
    assert _mapped_openssl(proc.proc.pid) == []
