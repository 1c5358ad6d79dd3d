from pathlib import Path

import pytest

from collector.tail.checkpoint import CheckpointStore
from collector.tail.fingerprint import Fingerprint


def test_store_round_trip_and_atomic_file(tmp_path: Path) -> None:
    store = CheckpointStore(str(tmp_path))
    store.update("1:2", 42, Fingerprint(10, "abc"), "/x.log")
    store.save()
    assert not (tmp_path / "checkpoints.json.tmp").exists()
    again = CheckpointStore(str(tmp_path))
    again.load()
    assert again.existed
    assert again.entries["1:2"].offset == 42


def test_corrupt_checkpoint_starts_empty(tmp_path: Path) -> None:
    (tmp_path / "checkpoints.json").write_bytes(b"{not json")
    store = CheckpointStore(str(tmp_path))
    store.load()
    assert store.entries == {}


def test_expire_forgets_only_old_entries_of_gone_files(tmp_path: Path) -> None:
    store = CheckpointStore(str(tmp_path))
    store.update("gone", 1, Fingerprint(0, ""), "/a")
    store.update("live", 1, Fingerprint(0, ""), "/b")
    store.entries["gone"].updated -= 100
    store.entries["live"].updated -= 100
    store.expire(10, live_keys={"live"})
    assert set(store.entries) == {"live"}


def test_disk_full_keeps_the_old_checkpoint_and_stays_dirty(
    tmp_path: Path, monkeypatch: "pytest.MonkeyPatch"
) -> None:
    import errno
    import os

    store = CheckpointStore(str(tmp_path))
    store.update("1:2", 10, Fingerprint(1, "a"), "/x")
    store.save()
    store.update("1:2", 20, Fingerprint(1, "a"), "/x")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    try:
        store.save()
    except OSError as e:
        assert e.errno == errno.ENOSPC
    else:
        raise AssertionError("a full disk must surface as OSError for the caller to count")
    monkeypatch.undo()
    assert store.dirty  # retried at the next interval
    again = CheckpointStore(str(tmp_path))
    again.load()
    assert again.entries["1:2"].offset == 10  # the old checkpoint is intact
    assert not (tmp_path / "checkpoints.json.tmp").exists()


def test_invalid_entries_are_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    import json

    good = {
        "key": "1:2",
        "offset": 7,
        "fingerprint": {"length": 7, "digest": "ab"},
        "path": "/a.log",
        "updated": 1.0,
    }
    bad = [
        {**good, "key": "1:3", "offset": -5},
        {**good, "key": "1:4", "fingerprint": {"length": -1, "digest": "ab"}},
        {**good, "key": "1:5", "fingerprint": {"length": 10**6, "digest": "ab"}},
        {**good, "key": "not-an-inode"},
        {**good, "key": "1:6", "offset": "7"},
        "garbage",
    ]
    (tmp_path / "checkpoints.json").write_text(json.dumps({"version": 1, "files": [*bad, good]}))
    store = CheckpointStore(str(tmp_path))
    store.load()
    assert store.existed
    assert list(store.entries) == ["1:2"]
    assert store.entries["1:2"].offset == 7


def test_an_entry_set_aside_is_kept_under_its_digest_for_a_copy(tmp_path: Path) -> None:
    store = CheckpointStore(str(tmp_path))
    store.update("1:2", 7, Fingerprint(10, "abc"), "/x.log")
    store.update("1:3", 9, Fingerprint(10, "def"), "/y.log")
    store.dirty = False
    store.set_aside("1:2")
    assert store.dirty
    assert store.entry("1:2") is None and not store.has("1:2")
    aside = store.set_aside_entries()
    assert [(k, e.offset, e.key) for k, e in aside] == [("1:2~abc", 7, "1:2")]
