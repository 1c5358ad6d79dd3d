"""What a source may read: regular files under its directories, never the collector's
secrets, and nothing that blocks (issue 16 items 3, 10, 11)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from tests.tail.helpers import Harness


def write(path: Path, text: str) -> None:
    with path.open("ab") as f:
        f.write(text.encode() + b"\n")


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        str(getattr(r, "reason", "")) for r in caplog.records if r.getMessage() == "file not read"
    ]


async def test_symlink_out_of_the_log_directory_is_not_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = tmp_path / "etc"
    outside.mkdir()
    write(outside / "shadow", "root:$6$secret-hash:19000:0:99999:7:::")
    h = Harness(tmp_path)
    (h.logs / "shadow.log").symlink_to(outside / "shadow")
    write(h.logs / "app.log", "ok")
    with caplog.at_level("WARNING", logger="collector.tail"):
        for _ in range(3):
            await h.step()
    assert h.lines() == [b"ok"]
    assert len(refusals(caplog)) == 1  # said once, not at every scan
    assert "outside" in refusals(caplog)[0]


async def test_linked_directory_under_a_double_star_glob_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "etc"
    outside.mkdir()
    write(outside / "passwd.log", "root:x:0:0")
    h = Harness(tmp_path, pattern="**/*.log")
    (h.logs / "sub").mkdir()
    write(h.logs / "sub" / "app.log", "ok")
    (h.logs / "linked").symlink_to(outside, target_is_directory=True)
    await h.step()
    assert h.lines() == [b"ok"]


async def test_symlink_within_the_log_directory_is_followed(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    (h.logs / "archive").mkdir()
    write(h.logs / "archive" / "app-2024.txt", "current")
    (h.logs / "current.log").symlink_to(h.logs / "archive" / "app-2024.txt")
    await h.step()
    assert h.lines() == [b"current"]


async def test_follow_symlinks_into_widens_where_links_may_lead(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    write(shared / "app.out", "from the shared volume")
    h = Harness(tmp_path, follow_symlinks_into=[str(shared)])
    (h.logs / "app.log").symlink_to(shared / "app.out")
    await h.step()
    assert h.lines() == [b"from the shared volume"]


@pytest.mark.parametrize("how", ["in_glob", "symlink", "hardlink"])
async def test_the_collectors_own_secret_files_are_never_read(tmp_path: Path, how: str) -> None:
    keys = tmp_path / "logs"
    keys.mkdir()
    key = keys / "hmac.log" if how == "in_glob" else tmp_path / "hmac.key"
    write(key, "the-hmac-key-that-makes-tokens-reversible")
    h = Harness(tmp_path, secret_files=(str(key),), follow_symlinks_into=[str(tmp_path)])
    if how == "symlink":
        (h.logs / "key.log").symlink_to(key)
    if how == "hardlink":
        os.link(key, h.logs / "key.log")
    write(h.logs / "app.log", "ok")
    await h.step()
    assert h.lines() == [b"ok"]


async def test_directories_matching_the_glob_are_skipped(tmp_path: Path) -> None:
    h = Harness(tmp_path, pattern="**")
    (h.logs / "dir.log").mkdir()
    (h.logs / "sub" / "deeper").mkdir(parents=True)
    write(h.logs / "sub" / "deeper" / "app.log", "deep")
    write(h.logs / "top.log", "top")
    await h.step()
    assert sorted(h.lines()) == [b"deep", b"top"]


async def test_a_log_file_replaced_by_a_directory_is_skipped(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    log = h.logs / "app.log"
    write(log, "before")
    await h.step()
    log.unlink()
    log.mkdir()
    write(h.logs / "other.log", "after")
    await h.step()
    await h.stop()
    assert sorted(h.lines()) == [b"after", b"before"]


def _step_in_thread(h: Harness, fifo: Path) -> bool:
    """Run one step off the test's thread; whether it returned (a blocked open is set
    free by opening the FIFO's other end, so the test fails instead of hanging)."""
    done = threading.Event()

    def run() -> None:
        asyncio.run(h.step())
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if done.wait(10):
        return True
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    os.close(fd)
    thread.join(10)
    return False


def test_a_fifo_matching_the_glob_does_not_block_the_tailer(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    fifo = h.logs / "pipe.log"
    os.mkfifo(fifo)
    write(h.logs / "app.log", "ok")
    assert _step_in_thread(h, fifo), "opening the FIFO blocked the event loop"
    assert h.lines() == [b"ok"]


async def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    name = os.fsencode(h.logs) + b"/pay\xffment.log"
    with open(name, "wb") as f:
        f.write(b"hello\n")
    await h.step()
    await h.stop()  # saves the checkpoint: the name must be encodable there too
    assert h.lines() == [b"hello"]
    assert h.batches[0].path.endswith("pay\\xffment.log")
    saved = json.loads((h.state / "checkpoints.json").read_text())
    assert [e["path"] for e in saved["files"]] == [h.batches[0].path]
    h.batches.clear()
    h.new_process()
    await h.step()
    assert h.lines() == []  # the checkpoint was found again
