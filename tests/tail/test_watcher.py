import asyncio
import subprocess
from pathlib import Path

import pytest

from collector.tail.watcher import DirectoryWatcher
from tests.tail.helpers import Harness


async def test_new_file_is_picked_up_by_inotify_long_before_the_poll(tmp_path: Path) -> None:
    h = Harness(tmp_path, poll_interval=30.0)
    stop = asyncio.Event()
    task = asyncio.create_task(h.source.run(stop))
    await asyncio.sleep(0.2)  # the first scan found nothing and the source sleeps
    (h.logs / "new.log").write_bytes(b"hello\n")
    # Well under the 30 s poll, yet generous for a loaded machine: only inotify can do it.
    deadline = asyncio.get_running_loop().time() + 10
    while not h.lines() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    got = h.lines()
    stop.set()
    h.source.wakeup.set()
    await asyncio.wait_for(task, 30)
    assert got == [b"hello"], "the new file was not read within 10 s (poll: 30 s)"


async def _run_until(h: Harness, want: list[bytes], seconds: float) -> list[bytes]:
    """Lines read while `h`'s source runs, until `want` arrived or `seconds` passed."""
    deadline = asyncio.get_running_loop().time() + seconds
    while h.lines() != want and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    return h.lines()


async def _stop(h: Harness, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    h.source.wakeup.set()
    await asyncio.wait_for(task, 30)


def _filesystem_name(path: Path) -> str:
    return subprocess.run(
        ["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_events_cover_a_local_directory_but_not_one_whose_watch_failed(tmp_path: Path) -> None:
    if _filesystem_name(tmp_path) not in {"ext2/ext3", "tmpfs", "xfs", "btrfs", "overlayfs"}:
        pytest.skip(f"tmp is on {_filesystem_name(tmp_path)}")
    loop = asyncio.new_event_loop()
    watcher = DirectoryWatcher(lambda files: None)
    try:
        if not watcher.start(loop):
            pytest.skip("no inotify here")
        watcher.watch({str(tmp_path)})
        assert watcher.complete
        watcher.watch({str(tmp_path), str(tmp_path / "not-yet")})  # the watch fails
        assert not watcher.complete
        watcher.watch({str(tmp_path)})  # asked for no longer
        assert watcher.complete
    finally:
        watcher.close(loop)
        loop.close()


async def test_an_idle_source_sees_copytruncate_and_rename_without_its_poll(
    tmp_path: Path,
) -> None:
    # An idle source polls once every _IDLE_POLL (10 s) where inotify covers everything:
    # a truncation and a rotation by rename must still be seen from their events.
    h = Harness(tmp_path, poll_interval=0.25)
    log = h.logs / "app.log"
    log.write_bytes(b"first line, long enough to be cut\n")
    stop = asyncio.Event()
    task = asyncio.create_task(h.source.run(stop))
    assert await _run_until(h, [b"first line, long enough to be cut"], 10) == [
        b"first line, long enough to be cut"
    ]
    await asyncio.sleep(1.5)  # past the first safety poll: the source is idle now
    with open(log, "r+b") as f:  # copytruncate: copied elsewhere, cut, written again
        f.truncate(0)
    with open(log, "ab") as f:
        f.write(b"cut\n")
    got = await _run_until(h, [b"first line, long enough to be cut", b"cut"], 5)
    assert got[1:] == [b"cut"], "the truncation was not seen within 5 s"
    await asyncio.sleep(1.5)
    log.rename(h.logs / "app.log.1")
    (h.logs / "app.log").write_bytes(b"new file\n")
    got = await _run_until(h, [b"first line, long enough to be cut", b"cut", b"new file"], 5)
    await _stop(h, stop, task)
    assert got[2:] == [b"new file"], "the rotated-in file was not read within 5 s"
