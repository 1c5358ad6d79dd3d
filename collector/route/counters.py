"""What a source route counts, as the objects it is handed (it defines no metrics).

The wiring passes the collector's own metrics (`collector.metrics.internal.ROUTE`);
without them (a benchmark, a tool) nothing is counted. Label values are source names and
fixed parse-error reasons only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from collector.counting import uncounted


class RouteCounters(NamedTuple):
    """Prometheus counters (or look-alikes with `labels` and `inc`)."""

    lines_read: Any  # labels: source
    bytes_read: Any  # labels: source
    records_parsed: Any  # labels: source
    parse_errors: Any  # labels: source, reason
    records_walked: Any
    lines_truncated: Any  # labels: source
    partial_lines: Any  # labels: source


UNCOUNTED = uncounted(RouteCounters)
