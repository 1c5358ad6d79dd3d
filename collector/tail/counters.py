"""What a file source counts, as the objects it is handed (it defines no metrics).

The wiring passes the collector's own metrics (`collector.pipeline.TAIL`); without
them (a test, a tool) nothing is counted. Label values are source names, file paths and
fixed rotation kinds only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from collector.counting import uncounted


class TailCounters(NamedTuple):
    """Prometheus counters and gauges (or look-alikes with the same methods)."""

    files_open: Any  # gauge, labels: source
    files_waiting: Any  # gauge, labels: source
    rotations: Any  # labels: source, kind
    file_lag_bytes: Any  # gauge, labels: source, file
    tail_paused: Any  # gauge


UNCOUNTED = uncounted(TailCounters)
