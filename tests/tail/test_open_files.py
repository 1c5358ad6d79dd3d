"""More files than max_open_files (issue 16 item 8): idle handles are released, least
recently active first, so every file gets its turn; the waiting ones are counted."""

from __future__ import annotations

import time
from pathlib import Path

from collector.metrics import internal as m
from collector.tail.counters import UNCOUNTED
from tests.tail.helpers import Harness


def write(path: Path, *lines: str) -> None:
    with path.open("ab") as f:
        f.write("".join(f"{line}\n" for line in lines).encode())


# The harness's source counts its waiting files in the collector's own gauge.
COUNTED = UNCOUNTED._replace(files_waiting=m.FILES_WAITING)


def waiting() -> float:
    return m.REGISTRY.get_sample_value("collector_files_waiting", {"source": "t"}) or 0.0


async def _until(h: Harness, count: int, deadline_s: float = 30.0) -> list[bytes]:
    deadline = time.monotonic() + deadline_s
    while len(h.lines()) < count and time.monotonic() < deadline:
        await h.step()
    return h.lines()


async def test_every_file_is_read_when_there_are_more_than_max_open_files(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path, counters=COUNTED, max_open_files=4)
    for i in range(40):
        write(h.logs / f"f{i:02d}.log", f"file-{i}-a")
    h.source.scan()
    assert len(h.source.readers) == 4
    assert waiting() == 36
    lines = await _until(h, 40)
    assert sorted(lines) == sorted(f"file-{i}-a".encode() for i in range(40))
    assert len(h.source.readers) <= 4
    # Files released idle are read again once they grow, and others still get turns.
    for i in range(0, 40, 3):
        write(h.logs / f"f{i:02d}.log", f"file-{i}-b")
    lines = await _until(h, 40 + 14)
    assert sorted(x for x in lines if x.endswith(b"-b")) == sorted(
        f"file-{i}-b".encode() for i in range(0, 40, 3)
    )
    assert waiting() == 0


async def test_released_files_resume_at_their_offset_after_a_restart(tmp_path: Path) -> None:
    h = Harness(tmp_path, counters=COUNTED, max_open_files=2)
    for i in range(6):
        write(h.logs / f"f{i}.log", f"{i}-a")
    await _until(h, 6)
    await h.stop()
    for i in range(6):
        write(h.logs / f"f{i}.log", f"{i}-b")
    h.batches.clear()
    h.new_process()
    lines = await _until(h, 6)
    assert sorted(lines) == sorted(f"{i}-b".encode() for i in range(6))


async def test_a_file_with_unacked_batches_is_not_released(tmp_path: Path) -> None:
    h = Harness(tmp_path, counters=COUNTED, max_open_files=1)
    h.auto_ack = False
    write(h.logs / "a.log", "a")
    await h.step()
    write(h.logs / "b.log", "b")
    await h.step()
    assert h.lines() == [b"a"]  # a's batch is in flight: its handle stays, b waits
    assert waiting() == 1
