import logging
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from collector.flow import FLAG_PARTIAL, FLAG_TRUNCATED
from tests.tail.helpers import TEST_CARD, Harness


def write(path: Path, *lines: str, newline: bool = True) -> None:
    with path.open("ab") as f:
        f.write("\n".join(lines).encode() + (b"\n" if newline else b""))


async def test_reads_from_head_and_resumes_after_restart(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    log = h.logs / "app.log"
    write(log, "a", "b")
    await h.step()
    await h.stop()
    assert h.lines() == [b"a", b"b"]
    write(log, "c")
    h.batches.clear()
    h.new_process()
    await h.step()
    await h.stop()
    assert h.lines() == [b"c"]


async def test_unacked_lines_are_read_again_after_restart(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.auto_ack = False
    write(h.logs / "app.log", "a", "b")
    await h.step()
    await h.stop()
    h.batches.clear()
    h.auto_ack = True
    h.new_process()
    await h.step()
    assert h.lines() == [b"a", b"b"]


async def test_rename_rotation_drains_old_file_and_reads_new(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    log = h.logs / "app.log"
    write(log, "1", "2")
    await h.step()
    write(log, "3")
    os.rename(log, h.logs / "app.log.1")  # out of the glob
    write(log, "4")
    await h.step()
    assert sorted(h.lines()) == [b"1", b"2", b"3", b"4"]
    time.sleep(0.06)
    await h.step()
    assert len(h.source.readers) == 1  # the rotated file was released after rotate_wait


async def test_copytruncate_with_copy_in_glob_loses_and_repeats_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path, pattern="app.log*")
    log = h.logs / "app.log"
    write(log, *[f"line-{i:03d}-" + "x" * 40 for i in range(10)])
    await h.step()
    write(log, "written-just-before-rotation")
    shutil.copyfile(log, h.logs / "app.log.1")
    with log.open("r+b") as f:
        f.truncate(0)
    write(log, "after")
    await h.step()
    lines = h.lines()
    assert lines.count(b"written-just-before-rotation") == 1
    assert lines.count(b"after") == 1
    assert len(lines) == 12


async def test_inode_reuse_with_other_content_reads_from_head(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    log = h.logs / "app.log"
    write(log, "old content " * 5)
    await h.step()
    await h.stop()
    # Same inode, new content, larger than the old offset: only the fingerprint tells.
    with log.open("r+b") as f:
        f.truncate(0)
        f.write(b"NEW first line that differs\n" * 3)
    h.batches.clear()
    h.new_process()
    await h.step()
    assert h.lines() == [b"NEW first line that differs"] * 3


async def test_long_line_is_truncated_flagged_and_tailing_goes_on(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_line_bytes=64, read_chunk_bytes=32)
    log = h.logs / "app.log"
    write(log, "y" * 500, "next")
    await h.step(rounds=5)
    lines = h.lines()
    flags = [f for b in h.batches for f in (b.flags or [0] * len(b.lines))]
    assert lines == [b"y" * 64, b"next"]
    assert flags[0] & FLAG_TRUNCATED
    assert not flags[1]


async def test_partial_line_waits_then_ships_flagged_at_shutdown(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    write(h.logs / "app.log", "done", "half", newline=False)
    await h.step()
    assert h.lines() == [b"done"]
    await h.stop()
    assert h.lines() == [b"done", b"half"]
    assert h.batches[-1].flags == [FLAG_PARTIAL]


async def test_read_from_tail_skips_existing_content_on_first_start(tmp_path: Path) -> None:
    h = Harness(tmp_path, read_from="tail")
    log = h.logs / "app.log"
    write(log, "old")
    h.new_process()
    await h.step()
    write(log, "new")
    await h.step()
    assert h.lines() == [b"new"]


async def test_binary_garbage_does_not_stop_the_tailer(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    log = h.logs / "app.log"
    log.write_bytes(os.urandom(4096).replace(b"\n", b"") + b"\n\xff\xfe\x00bad\nok\n")
    await h.step()
    assert h.lines()[-1] == b"ok"


async def test_java_stack_trace_is_one_record_and_the_last_waits_for_flush_timeout(
    tmp_path: Path,
) -> None:
    from collector.tail.config import MultilineConfig

    h = Harness(tmp_path, multiline=MultilineConfig(mode="java", flush_timeout=0.05))
    write(
        h.logs / "app.log",
        "2024-05-01 ERROR request failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.acme.Pay.run(Pay.java:10)",
        "Caused by: java.io.IOException: reset",
        "\t... 4 more",
        "2024-05-01 INFO recovered",
    )
    await h.step()
    lines = h.lines()
    assert lines[0].startswith(b"2024-05-01 ERROR request failed\njava.lang.Illegal")
    assert lines[0].count(b"\n") == 4 and lines[0].endswith(b"... 4 more")
    assert len(lines) == 1  # the last record is held: more continuation lines may come
    time.sleep(0.06)
    await h.step()
    assert h.lines()[-1] == b"2024-05-01 INFO recovered"


async def test_negative_checkpoint_offset_is_dropped_and_the_file_read_from_head(
    tmp_path: Path,
) -> None:
    import json

    from collector.tail.fingerprint import digest

    h = Harness(tmp_path)
    log = h.logs / "app.log"
    write(log, "hello")
    st = os.stat(log)
    h.state.mkdir()
    entry = {
        "key": f"{st.st_dev}:{st.st_ino}",
        "offset": -5,
        "fingerprint": {"length": 6, "digest": digest(b"hello\n")},
        "path": str(log),
        "updated": time.time(),
    }
    (h.state / "checkpoints.json").write_text(json.dumps({"version": 1, "files": [entry]}))
    h.new_process()
    await h.step()
    assert h.lines() == [b"hello"]


@pytest.mark.parametrize("chunk", [32, 65536])  # cut with and without the newline in view
async def test_a_line_cut_inside_a_card_number_ships_none_of_its_digits(
    tmp_path: Path, chunk: int
) -> None:
    h = Harness(tmp_path, max_line_bytes=64, read_chunk_bytes=chunk)
    pan = TEST_CARD
    for lead in range(50, 63):  # every cut from 1 to 14 digits into the number
        write(h.logs / "app.log", "x" * lead + pan + " and then more text")
    for _ in range(100):  # a read that ends inside a line yields no batch: step on
        await h.step()
        if len(h.lines()) >= 13:
            break
    lines = h.lines()
    assert len(lines) == 13
    assert all(len(line) == 64 for line in lines)
    assert not any(re.search(rb"[0-9]", line) for line in lines), "card digits left at the cut"
    flags = [f for b in h.batches for f in (b.flags or [0] * len(b.lines))]
    assert all(f & FLAG_TRUNCATED for f in flags)


async def test_a_card_number_split_by_a_partial_line_ships_none_of_its_digits(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path, partial_line_timeout=0.01)
    pan = TEST_CARD
    log = h.logs / "app.log"
    write(log, "paid with " + pan[:9], newline=False)
    await h.step()
    time.sleep(0.02)
    await h.step()  # the half line goes out on partial_line_timeout
    write(log, pan[9:] + " ok")
    await h.step()
    assert h.lines() == [b"paid with *********", b"******* ok"]
    assert h.batches[0].flags == [FLAG_PARTIAL]


async def test_crlf_lines_lose_their_carriage_return(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    (h.logs / "app.log").write_bytes(b'{"a":1}\r\ntext line\r\n')
    await h.step()
    assert h.lines() == [b'{"a":1}', b"text line"]


async def test_an_unreadable_file_is_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    h = Harness(tmp_path)
    log = h.logs / "secret.log"
    write(log, "x")
    real_open = os.open
    denied = True

    def open_denied(path: str, flags: int, *args: int) -> int:
        # chmod 0 does not stop root, who may run this test: the kernel's answer is injected
        if denied and os.fspath(path) == str(log):
            raise PermissionError(errno.EACCES, "Permission denied", str(log))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_denied)
    with caplog.at_level(logging.WARNING, logger="collector.tail"):
        for _ in range(5):
            await h.step()
    warned = [r for r in caplog.records if r.getMessage() == "cannot open file"]
    assert len(warned) == 1
    denied = False
    await h.step()
    assert h.lines() == [b"x"]  # once readable, it is read
