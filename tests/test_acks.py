"""The ack watermark (collector/acks.py)."""

from collector.acks import AckTracker


def test_watermark_moves_only_over_contiguous_acks() -> None:
    tracker = AckTracker()
    commits: list[int] = []
    tracker.register("f#0", commits.append)
    t1, t2, t3 = (tracker.issue("f#0", off, 10, 0) for off in (10, 20, 30))
    tracker.acked(t2)
    assert commits == []
    tracker.acked(t1)
    assert commits == [20]
    tracker.acked(t3)
    assert commits == [20, 30]
    assert tracker.pending("f#0") == 0


def test_retired_file_is_forgotten_after_last_ack() -> None:
    tracker = AckTracker()
    tracker.register("f#0", lambda _: None)
    t = tracker.issue("f#0", 5, 5, 1)
    tracker.retire("f#0")
    assert tracker.oldest_unacked_ns() == 1
    tracker.acked(t)
    assert tracker.oldest_unacked_ns() is None
