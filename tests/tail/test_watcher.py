import asyncio
from pathlib import Path

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
