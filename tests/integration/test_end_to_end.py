"""Issue 2's end-to-end path: simulated payment logs -> collector -> real FluentServer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from collector.simulator import write_file
from tests.support.cards import count_pans
from tests.support.collector import (
    CollectorProcess,
    checkpoint_offsets,
    seqs,
    wait_until,
    write_config,
)
from tests.support.receiver import FluentReceiver

pytestmark = pytest.mark.integration


def test_every_line_arrives_once_redacted_and_checkpointed_then_resumes(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    receiver = fluent_server()
    config = write_config(tmp_path, receiver.port)
    log = tmp_path / "logs" / "payment.log"
    write_file(str(log), 5000, seed=7)

    first = collector_proc(config)
    assert wait_until(lambda: receiver.count() >= 5000, 60), "not all lines arrived"
    assert wait_until(
        lambda: checkpoint_offsets(tmp_path / "state").get(str(log)) == log.stat().st_size, 10
    ), "checkpoint did not reach the file size after the acks"
    assert first.terminate() == 0

    got = seqs(receiver.records())
    assert set(got) == set(range(1, 5001)), "some lines are missing"
    assert max(got.values()) == 1, "a line arrived twice"
    leaked = count_pans(receiver.out.read_text())
    assert leaked == 0, f"{leaked} card numbers reached the receiver"

    # Restart after more lines: nothing re-sent, nothing missing.
    with log.open("ab") as f:
        from collector.simulator import PaymentLogs

        f.write(b"".join(PaymentLogs(seed=8, start_seq=5000).lines(1000)))
    second = collector_proc(config)
    assert wait_until(lambda: receiver.count() >= 6000, 60), "appended lines missing"
    assert second.terminate() == 0
    got = seqs(receiver.records())
    assert set(got) == set(range(1, 6001)), "lines missing after restart"
    assert max(got.values()) == 1, "restart re-sent acked lines"
    assert checkpoint_offsets(tmp_path / "state")[str(log)] == log.stat().st_size


def test_records_carry_event_time_with_nanoseconds_and_metadata(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    receiver = fluent_server()
    config = write_config(
        tmp_path, receiver.port, source={"tag": "payment.${file}", "parser": {"time_key": "ts"}}
    )
    line = {"ts": "2026-01-02T03:04:05.123456789Z", "msg": "hello"}
    (tmp_path / "logs" / "api.log").write_bytes(orjson.dumps(line) + b"\nnot json at all\n")
    proc = collector_proc(config, env={"POD_NAME": "payment-api-0", "POD_NAMESPACE": "pay"})
    entries = receiver.wait_for(2, 30)
    assert proc.terminate() == 0
    assert len(entries) == 2
    first, second = entries
    assert first["tag"] == "payment.api"
    assert first["time"] == [1767323045, 123456789]
    assert first["record"]["kubernetes"]["pod_name"] == "payment-api-0"
    assert first["record"]["file"].endswith("api.log")
    assert second["record"]["message"] == "not json at all"
    assert second["record"]["_parse_error"]
