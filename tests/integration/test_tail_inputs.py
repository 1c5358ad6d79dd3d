"""Issue 16's tailer items against a real `collector run` and the real FluentServer: what
is found in the log directory (links, secrets, directories, FIFOs, odd names, a broken
checkpoint, many files, a banner, a cut card number) must neither stop the collector nor
leave the pod. Every wait is on an event (a record, a log line, an exit) with a generous
deadline: these machines are shared and loaded."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collector.tail.fingerprint import digest
from tests.support.collector import (
    DELIVERY_TIMEOUT,
    CollectorProcess,
    free_port,
    scrape,
    wait_until,
    write_config,
)
from tests.tail.helpers import TEST_CARD
from tools.receiver import FluentReceiver

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Server = Callable[..., FluentReceiver]
Proc = Callable[..., CollectorProcess]


def write(path: Path | bytes, *lines: str) -> None:
    with open(path, "ab") as f:
        f.write("".join(f"{line}\n" for line in lines).encode())


def messages(receiver: FluentReceiver) -> list[str]:
    """The `message` of every record (the sources here use the text format)."""
    return [str(r.get("message")) for r in receiver.records()]


def text_source(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"format": "text", "paths": [str(tmp_path / "logs" / "*.log")], **extra}


def restart(start: Proc, proc: CollectorProcess) -> CollectorProcess:
    """A new process on the same config, its start told apart from the last one's."""
    proc.stderr_path.unlink(missing_ok=True)
    return start(proc.config)


def stopped_cleanly(proc: CollectorProcess) -> bool:
    """SIGTERM, then exit 0 within a generous deadline; every stderr line is JSON."""
    code = proc.terminate(timeout=60)
    return code == 0 and not [e for e in proc.logs() if "raw" in e]


def test_links_out_of_the_log_dir_and_the_collectors_secrets_are_never_shipped(
    tmp_path: Path, fluent_server: Server, collector_proc: Proc
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "hmac.key").write_text("hmac-key-0123456789abcdef")
    (secrets / "shared.key").write_text("shared-key-fedcba9876543210")
    receiver = fluent_server(["--shared-key", "shared-key-fedcba9876543210"])
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "passwd.log").symlink_to("/etc/passwd")
    (logs / "hmac.log").symlink_to(secrets / "hmac.key")
    os.link(secrets / "shared.key", logs / "shared.log")  # a hard link: no symlink to spot
    write(logs / "app.log", "app line one")
    config = write_config(
        tmp_path,
        receiver.port,
        # the secrets' directory is even allowed for links: the secrets stay refused
        source=text_source(tmp_path, follow_symlinks_into=[str(secrets)]),
        redact={"pan_policy": "hmac", "hmac_key_file": str(secrets / "hmac.key")},
        forward={"security": {"shared_key_file": str(secrets / "shared.key")}},
    )
    proc = collector_proc(config)
    assert wait_until(lambda: "app line one" in messages(receiver), DELIVERY_TIMEOUT)
    write(logs / "app.log", "app line two")
    assert wait_until(lambda: "app line two" in messages(receiver), DELIVERY_TIMEOUT)
    refused = {e.get("path") for e in proc.logs() if e.get("msg") == "file not read"}
    assert stopped_cleanly(proc)
    shipped = json.dumps(receiver.records())
    assert "root:" not in shipped and "hmac-key" not in shipped and "shared-key" not in shipped
    assert {str(logs / n) for n in ("passwd.log", "hmac.log", "shared.log")} <= refused


def test_directories_fifos_and_odd_names_neither_stop_nor_hang_the_collector(
    tmp_path: Path, fluent_server: Server, collector_proc: Proc
) -> None:
    receiver = fluent_server()
    logs = tmp_path / "logs"
    (logs / "dir.log").mkdir(parents=True)
    (logs / "sub" / "deeper").mkdir(parents=True)
    os.mkfifo(logs / "pipe.log")
    os.mkfifo(logs / "sub" / "pipe.log")
    write(os.fsencode(logs) + b"/pay\xffment.log", "odd name line")
    write(logs / "sub" / "deeper" / "app.log", "deep line")
    write(logs / "app.log", "top line")
    config = write_config(
        tmp_path, receiver.port, source=text_source(tmp_path, paths=[str(logs / "**")])
    )
    proc = collector_proc(config)
    want = {"odd name line", "deep line", "top line"}
    assert wait_until(lambda: want <= set(messages(receiver)), DELIVERY_TIMEOUT)
    # A log file replaced by a directory while the collector runs.
    (logs / "app.log").unlink()
    (logs / "app.log").mkdir()
    write(logs / "after.log", "after the swap")
    assert wait_until(lambda: "after the swap" in messages(receiver), DELIVERY_TIMEOUT)
    assert stopped_cleanly(proc), "no clean exit on SIGTERM (blocked on a FIFO?)"
    files = {r.get("file") or r.get("_file") for r in receiver.records()}
    assert any(str(f).endswith("pay\\xffment.log") for f in files)
    assert stopped_cleanly(restart(collector_proc, proc))  # and it starts again over it


def test_a_negative_checkpoint_offset_costs_its_entry_not_the_start(
    tmp_path: Path, fluent_server: Server, collector_proc: Proc
) -> None:
    receiver = fluent_server()
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    write(log, "line one", "line two")
    st = log.stat()
    state = tmp_path / "state"
    state.mkdir()
    entry = {
        "key": f"{st.st_dev}:{st.st_ino}",
        "offset": -5,
        "fingerprint": {"length": st.st_size, "digest": digest(log.read_bytes())},
        "path": str(log),
        "updated": time.time(),
    }
    (state / "checkpoints.json").write_text(json.dumps({"version": 1, "files": [entry]}))
    config = write_config(tmp_path, receiver.port, source=text_source(tmp_path))
    proc = collector_proc(config)
    assert wait_until(lambda: len(messages(receiver)) >= 2, DELIVERY_TIMEOUT)
    assert messages(receiver) == ["line one", "line two"]
    assert any("checkpoint entry invalid" in str(e.get("msg")) for e in proc.logs())
    assert stopped_cleanly(proc)


def test_more_files_than_max_open_files_are_all_read_and_waiting_is_exported(
    tmp_path: Path, fluent_server: Server, collector_proc: Proc
) -> None:
    receiver = fluent_server()
    logs = tmp_path / "logs"
    logs.mkdir()
    count = 600
    for i in range(count):
        write(logs / f"f{i:04d}.log", f"file {i} first")
    port = free_port()
    config = write_config(
        tmp_path,
        receiver.port,
        source=text_source(tmp_path, max_open_files=16),
        metrics={"listen": f"127.0.0.1:{port}"},
    )
    proc = collector_proc(config)
    assert wait_until(lambda: "collector_files_waiting{" in scrape(port), DELIVERY_TIMEOUT)
    assert wait_until(lambda: len(messages(receiver)) >= count, DELIVERY_TIMEOUT)
    for i in range(0, count, 7):  # files released idle are read again when they grow
        write(logs / f"f{i:04d}.log", f"file {i} second")
    total = count + len(range(0, count, 7))
    assert wait_until(lambda: len(messages(receiver)) >= total, DELIVERY_TIMEOUT)
    assert wait_until(
        lambda: 'collector_files_waiting{source="payment"} 0.0' in scrape(port), DELIVERY_TIMEOUT
    )
    assert stopped_cleanly(proc)
    got = messages(receiver)
    assert sorted(got) == sorted(
        [f"file {i} first" for i in range(count)] + [f"file {i} second" for i in range(0, count, 7)]
    )


BANNER = "=" * 40 + " payment-service v1.2.3 started " + "=" * 240


def test_rename_rotation_with_a_banner_and_a_replaced_file_lose_nothing(
    tmp_path: Path, fluent_server: Server, collector_proc: Proc
) -> None:
    receiver = fluent_server()
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    write(log, BANNER, *[f"first-{i}" for i in range(10)])
    config = write_config(
        tmp_path,
        receiver.port,
        source=text_source(tmp_path, paths=[str(logs / "app.log*")], rotate_wait="30s"),
    )
    proc = collector_proc(config)
    assert wait_until(lambda: "first-9" in messages(receiver), DELIVERY_TIMEOUT)
    os.rename(log, logs / "app.log.1")
    write(log, BANNER, *[f"second-{i}" for i in range(25)])
    assert wait_until(lambda: "second-24" in messages(receiver), DELIVERY_TIMEOUT)
    assert stopped_cleanly(proc)
    # Replaced while we were stopped, shorter than its checkpoint, same banner.
    (logs / "app.log.1").unlink()
    log.unlink()
    write(log, BANNER, "third-0", "third-1")
    proc = restart(collector_proc, proc)
    assert wait_until(lambda: "third-1" in messages(receiver), DELIVERY_TIMEOUT)
    assert stopped_cleanly(proc)
    got = [m for m in messages(receiver) if m != BANNER]
    want = [f"first-{i}" for i in range(10)] + [f"second-{i}" for i in range(25)]
    assert got == [*want, "third-0", "third-1"]


def test_a_card_number_cut_by_max_line_bytes_leaves_no_digit_and_crlf_is_stripped(
    tmp_path: Path, fluent_server: Server, collector_proc: Proc
) -> None:
    receiver = fluent_server()
    logs = tmp_path / "logs"
    logs.mkdir()
    pan = TEST_CARD
    with (logs / "app.log").open("wb") as f:
        for lead in range(50, 63):  # cut 1 to 13 digits into the number
            f.write(b"x" * lead + pan.encode() + b" and the rest of a long line\r\n")
        f.write(b"windows line\r\n")
    config = write_config(tmp_path, receiver.port, source=text_source(tmp_path, max_line_bytes=64))
    proc = collector_proc(config)
    assert wait_until(lambda: len(messages(receiver)) >= 14, DELIVERY_TIMEOUT)
    assert stopped_cleanly(proc)
    got = messages(receiver)
    assert not any(ch.isdigit() for m in got[:13] for ch in m), "card digits left at the cut"
    assert all(r.get("_truncated") for r in receiver.records()[:13])
    assert got[13] == "windows line"


def test_sigterm_while_a_fifo_sits_in_the_glob(
    tmp_path: Path, fluent_server: Server, collector_proc: Proc
) -> None:
    receiver = fluent_server()
    logs = tmp_path / "logs"
    logs.mkdir()
    write(logs / "app.log", "before")
    config = write_config(tmp_path, receiver.port, source=text_source(tmp_path))
    proc = collector_proc(config)
    assert wait_until(lambda: "before" in messages(receiver), DELIVERY_TIMEOUT)
    os.mkfifo(logs / "late.log")  # appears while running: no writer will ever come
    write(logs / "app.log", "after")
    assert wait_until(lambda: "after" in messages(receiver), DELIVERY_TIMEOUT)
    assert proc.proc is not None
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(60) == 0
