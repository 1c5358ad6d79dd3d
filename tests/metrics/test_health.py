"""Readiness and liveness decisions, on a clock the test moves."""

from __future__ import annotations

from collector.metrics.health import Health


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def started(clock: Clock, window: float = 60.0) -> Health:
    h = Health(ready_window=window, live_window=10.0, clock=clock)
    h.config_loaded = True
    h.sources_open = True
    return h


def test_not_ready_until_config_loaded_and_sources_open() -> None:
    h = Health(ready_window=60.0)
    assert h.ready()[0] is False
    h.config_loaded = True
    ok, reason = h.ready()
    assert not ok and "sources" in reason
    h.sources_open = True
    assert h.ready()[0] is True


def test_receiver_down_past_window_flips_not_ready_and_back_on_delivery() -> None:
    clock = Clock()
    h = started(clock, window=60.0)
    h.delivered()
    h.set_pending(3)  # receiver goes down: chunks stay unacked
    clock.now += 59
    assert h.ready()[0] is True, "still within the window"
    clock.now += 2
    ok, reason = h.ready()
    assert not ok and "3 chunks pending" in reason
    h.delivered()  # receiver back
    h.set_pending(1)
    assert h.ready()[0] is True


def test_idle_pipeline_stays_ready_however_old_the_last_ack() -> None:
    clock = Clock()
    h = started(clock)
    h.delivered()
    clock.now += 3600
    h.set_pending(0)
    assert h.ready()[0] is True


def test_first_chunk_after_idle_hour_gets_a_full_window() -> None:
    clock = Clock()
    h = started(clock, window=30.0)
    h.delivered()
    clock.now += 3600
    h.set_pending(1)
    clock.now += 29
    assert h.ready()[0] is True
    clock.now += 2
    assert h.ready()[0] is False


def test_never_acked_with_pending_fails_after_window() -> None:
    clock = Clock()
    h = started(clock, window=5.0)
    h.set_pending(2)
    clock.now += 6
    assert h.ready()[0] is False


def test_liveness_fails_when_loop_stops_beating() -> None:
    clock = Clock()
    h = started(clock)
    clock.now += 9
    assert h.live()[0] is True
    clock.now += 2
    ok, reason = h.live()
    assert not ok and "event loop" in reason
    h.beat()
    assert h.live()[0] is True
