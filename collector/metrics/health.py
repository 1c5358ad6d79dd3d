"""Liveness and readiness, decided in one place for /healthz and /readyz.

The pipeline sets the facts (config loaded, sources open, chunks pending, acks, loop
beats) from the event loop; the HTTP server thread only reads them. Plain attribute
reads and writes of floats and bools are atomic under the GIL, so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Health:
    """Answers "is the loop alive?" and "is the sidecar doing its job?".

    Readiness fails when chunks are pending and nothing was acked for `ready_window`
    seconds, counted from the later of the last ack and the moment work became pending
    (so the first chunk after an idle hour does not fail readiness at once).
    """

    def __init__(
        self,
        ready_window: float,
        live_window: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ready_window = ready_window
        self.live_window = live_window
        self.config_loaded = False
        self.sources_open = False
        self._clock = clock
        now = clock()
        self._last_beat = now
        self._last_ack: float | None = None
        self._pending = 0
        self._pending_since = now

    def delivered(self) -> None:
        self._last_ack = self._clock()

    def set_pending(self, chunks: int) -> None:
        if chunks > 0 and self._pending == 0:
            self._pending_since = self._clock()
        self._pending = chunks

    def beat(self) -> None:
        self._last_beat = self._clock()

    def live(self) -> tuple[bool, str]:
        silent = self._clock() - self._last_beat
        if silent > self.live_window:
            return False, f"event loop has not run for {silent:.1f}s"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        if not self.config_loaded:
            return False, "config not loaded"
        if not self.sources_open:
            return False, "sources not open"
        if self._pending == 0:
            return True, "ok: nothing pending"
        since = self._pending_since
        if self._last_ack is not None and self._last_ack > since:
            since = self._last_ack
        waited = self._clock() - since
        if waited > self.ready_window:
            return False, (
                f"{self._pending} chunks pending and no ack for {waited:.1f}s "
                f"(ready_window {self.ready_window:g}s)"
            )
        return True, "ok: delivering"
