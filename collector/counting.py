"""Counting nothing: the stand-in for the counters a stage is handed when nobody counts.

Stages define no metrics; the wiring hands each one a NamedTuple of Prometheus counters
and gauges (`tail/counters.py`, `route/counters.py`, `forward/counters.py`). A test, a
benchmark or a tool that runs a stage without the collector's metrics hands it
`uncounted(TheCounters)` instead: the same methods, no registry, nothing counted.
"""

from __future__ import annotations

from typing import NamedTuple, TypeVar

Counters = TypeVar("Counters", bound=NamedTuple)


class Uncounted:
    """A counter or gauge that counts nothing, with the methods the stages call."""

    def labels(self, *values: str) -> Uncounted:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def remove(self, *values: str) -> None:
        pass


def uncounted(counters: type[Counters]) -> Counters:
    """The NamedTuple of counters `counters` with every field counting nothing."""
    nothing = Uncounted()
    return counters._make(nothing for _ in counters._fields)
