"""Which file is this (issue 16 items 6 and 7): a shared start never makes a file a copy,
and a file shorter than its checkpoint is read from 0."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.tail.helpers import Harness

# A start-up banner longer than the fingerprint: every file the app opens starts with it.
BANNER = "=" * 40 + " payment-service v1.2.3 started " + "=" * 240


def write(path: Path, *lines: str) -> None:
    with path.open("ab") as f:
        f.write("".join(f"{line}\n" for line in lines).encode())


async def _until(h: Harness, count: int, deadline_s: float = 30.0) -> list[bytes]:
    """Step until `count` lines arrived or the deadline passed (waits bound by time)."""
    deadline = time.monotonic() + deadline_s
    while len(h.lines()) < count and time.monotonic() < deadline:
        await h.step()
    return h.lines()


async def test_rename_rotation_with_a_constant_banner_loses_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path, pattern="app.log*", rotate_wait=30.0)
    log = h.logs / "app.log"
    write(log, BANNER, *[f"old-{i}" for i in range(5)])
    await h.step()
    os.rename(log, h.logs / "app.log.1")
    write(log, BANNER, *[f"new-{i}" for i in range(25)])
    await h.step()
    lines = await _until(h, 32, deadline_s=10)
    assert [x for x in lines if x.startswith(b"new-")] == [f"new-{i}".encode() for i in range(25)]


async def test_a_rotated_name_sorting_first_does_not_make_the_new_file_a_copy(
    tmp_path: Path,
) -> None:
    # "app-1.log" sorts before "app.log": the scan sees the renamed file at its new name
    # before it meets the new file, which then starts like a file still at its path.
    h = Harness(tmp_path, rotate_wait=30.0)
    log = h.logs / "app.log"
    write(log, BANNER, "old-0")
    await h.step()
    os.rename(log, h.logs / "app-1.log")
    write(log, BANNER)  # only the banner yet: as far as bytes go, it could be a copy
    await h.step()
    write(log, *[f"new-{i}" for i in range(25)])
    lines = await _until(h, 28, deadline_s=10)
    assert [x for x in lines if x.startswith(b"new-")] == [f"new-{i}".encode() for i in range(25)]


async def test_workers_logging_the_same_first_line_lose_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path, rotate_wait=30.0)
    first = "worker starting: payment-service v1.2.3 (config /etc/pay.yaml)"
    for w in range(10):
        write(h.logs / f"worker-{w}.log", first)
    await h.step()
    for w in range(10):
        write(h.logs / f"worker-{w}.log", *[f"w{w}-line-{i}" for i in range(3)])
    lines = await _until(h, 40, deadline_s=10)
    got = sorted(x for x in lines if b"-line-" in x)
    assert got == sorted(f"w{w}-line-{i}".encode() for w in range(10) for i in range(3))


async def test_a_copy_of_a_file_never_truncated_is_read_as_a_new_file(tmp_path: Path) -> None:
    h = Harness(tmp_path, rotate_wait=0.05)  # gives up waiting for a cut after ~1.2 s
    log = h.logs / "app.log"
    write(log, BANNER, "a", "b")
    await h.step()
    (h.logs / "backup.log").write_bytes(log.read_bytes())  # cp, no truncation follows
    lines = await _until(h, 6, deadline_s=30)
    assert lines.count(b"a") == 2 and lines.count(b"b") == 2  # duplicated, never skipped


async def test_checkpoint_past_the_end_of_a_replaced_file_reads_it_from_zero(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path)
    log = h.logs / "app.log"
    write(log, BANNER, *[f"old-{i}" for i in range(20)])
    await h.step()
    await h.stop()
    # While we were stopped the app started over in the same file (same inode, same
    # banner), and wrote fewer bytes than our checkpoint says we had read.
    with log.open("r+b") as f:
        f.truncate(0)
    write(log, BANNER, "new-0", "new-1", "new-2")
    h.batches.clear()
    h.new_process()
    await h.step()
    assert h.lines() == [BANNER.encode(), b"new-0", b"new-1", b"new-2"]


async def test_a_new_inode_shorter_than_an_old_checkpoint_is_read_from_zero(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path)
    log = h.logs / "app.log"
    write(log, BANNER, *[f"old-{i}" for i in range(20)])
    await h.step()
    await h.stop()
    log.unlink()  # replaced while we were stopped (the inode may or may not be reused)
    write(log, BANNER, "new-0")
    h.batches.clear()
    h.new_process()
    await h.step()
    assert h.lines() == [BANNER.encode(), b"new-0"]
