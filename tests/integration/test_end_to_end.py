"""Issue 2's end-to-end path: simulated payment logs -> collector -> real FluentServer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.support.cards import count_pans
from tests.support.collector import (
    DELIVERY_TIMEOUT,
    CollectorProcess,
    checkpoint_offsets,
    checkpointed,
    free_port,
    scrape,
    seqs,
    wait_until,
    write_config,
)
from tools.receiver import FluentReceiver
from tools.simulator import write_file

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
    assert wait_until(lambda: receiver.count() >= 5000, DELIVERY_TIMEOUT), "not all lines arrived"
    assert wait_until(lambda: checkpointed(tmp_path, log), DELIVERY_TIMEOUT), (
        "checkpoint did not reach the file size after the acks"
    )
    assert first.terminate() == 0

    got = seqs(receiver.records())
    assert set(got) == set(range(1, 5001)), "some lines are missing"
    assert max(got.values()) == 1, "a line arrived twice"
    leaked = count_pans(receiver.out.read_text())
    assert leaked == 0, f"{leaked} card numbers reached the receiver"

    # Restart after more lines: nothing re-sent, nothing missing.
    with log.open("ab") as f:
        from tools.simulator import PaymentLogs

        f.write(b"".join(PaymentLogs(seed=8, start_seq=5000).lines(1000)))
    second = collector_proc(config)
    assert wait_until(lambda: receiver.count() >= 6000, DELIVERY_TIMEOUT), "appended lines missing"
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
    entries = receiver.wait_for(2, DELIVERY_TIMEOUT)
    assert proc.terminate() == 0
    assert len(entries) == 2
    first, second = entries
    assert first["tag"] == "payment.api"
    assert first["time"] == [1767323045, 123456789]
    assert first["record"]["kubernetes"]["pod_name"] == "payment-api-0"
    assert first["record"]["file"].endswith("api.log")
    assert second["record"]["message"] == "not json at all"
    assert second["record"]["_parse_error"]


def test_a_card_number_in_a_file_name_leaves_in_no_field_tag_label_or_log(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    pan = "4111" + "1111" + "1111" + "1111"  # a public test card number
    receiver = fluent_server()
    metrics_port = free_port()
    config = write_config(
        tmp_path,
        receiver.port,
        source={"tag": "payment.${file}"},
        metrics={"listen": f"127.0.0.1:{metrics_port}"},
    )
    log = tmp_path / "logs" / f"card-{pan}.log"
    log.write_bytes(b'{"msg": "hello"}\n' * 3)
    proc = collector_proc(config)
    entries = receiver.wait_for(3, DELIVERY_TIMEOUT)
    assert len(entries) == 3, "the lines did not arrive"

    def lag_label_shown() -> bool:
        return "collector_file_lag_bytes{" in scrape(metrics_port)

    assert wait_until(lag_label_shown, DELIVERY_TIMEOUT), "no file lag series on /metrics"
    body = scrape(metrics_port)
    assert proc.terminate() == 0
    logs = proc.stderr_path.read_text()
    assert "card-" in logs, "the collector logged no line about the file"
    for where, text in [
        ("a record or tag", receiver.out.read_text()),
        ("/metrics", body),
        ("the collector's own logs", logs),
    ]:
        leaked = pan in text  # a bool: a failure never prints the number
        assert not leaked, f"the card number in the file name reached {where}"
    assert entries[0]["tag"].startswith("payment.card-")
    assert entries[0]["record"]["file"].endswith(".log")


def test_the_apps_own_file_and_kubernetes_fields_reach_the_receiver_untouched(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    receiver = fluent_server()
    config = write_config(tmp_path, receiver.port)
    line = {"msg": "m", "file": "Invoice.java", "kubernetes": {"cluster": "eu-1"}}
    (tmp_path / "logs" / "app.log").write_bytes(orjson.dumps(line) + b"\n")
    proc = collector_proc(config, env={"POD_NAME": "payment-api-0"})
    entries = receiver.wait_for(1, DELIVERY_TIMEOUT)
    assert proc.terminate() == 0
    record = entries[0]["record"]
    assert record["file"] == "Invoice.java"
    assert record["kubernetes"] == {"cluster": "eu-1"}
    assert record["_file"].endswith("app.log")
    assert record["_kubernetes"]["pod_name"] == "payment-api-0"
