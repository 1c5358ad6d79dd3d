"""How `collector run` answers signals: SIGTERM/SIGINT drain, SIGHUP is logged and ignored.

The handlers go in first thing, before the config is read and the redactor and pipeline
are built: until then a signal's default action would end the process at once, with no
drain and no checkpoint (SIGHUP's default is to terminate, and tools send it to mean
"reload"). A signal that comes during start-up is remembered and answered as soon as the
event loop runs. The config is read once, so SIGHUP does not reload it: a new config is
applied by restarting the container.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger("collector")

STOP = (signal.SIGTERM, signal.SIGINT)
IGNORED = (signal.SIGHUP,)


class Signals:
    """Signals of the process: remembered early, then handed to the event loop."""

    def __init__(self) -> None:
        self._pending: list[signal.Signals] = []
        self._on_stop: Callable[[signal.Signals], None] | None = None

    def install_early(self) -> None:
        """Remember STOP and IGNORED signals until `attach` (call before anything slow)."""
        for sig in STOP + IGNORED:
            signal.signal(sig, self._remember)

    def attach(
        self, loop: asyncio.AbstractEventLoop, on_stop: Callable[[signal.Signals], None]
    ) -> None:
        """Answer signals on `loop` from now on, starting with those that came early."""
        self._on_stop = on_stop
        for sig in STOP + IGNORED:
            loop.add_signal_handler(sig, self._answer, sig)
        pending, self._pending = self._pending, []
        for sig in pending:
            self._answer(sig)

    def _remember(self, signum: int, frame: FrameType | None) -> None:
        self._pending.append(signal.Signals(signum))

    def _answer(self, sig: signal.Signals) -> None:
        if sig in IGNORED:
            log.warning(
                "SIGHUP ignored: the config is read at start only; restart to apply a new one",
                extra={"signal": sig.name},
            )
        elif self._on_stop is not None:
            self._on_stop(sig)
