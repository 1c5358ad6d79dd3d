"""What the Forward client counts, as the objects it is handed (it defines no metrics).

The wiring passes the collector's own metrics (`collector.metrics.internal.FORWARD`); a test
or a tool can pass its own. Label values are server names and fixed failure reasons only.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class ClientCounters(NamedTuple):
    """Prometheus counters and gauges (or look-alikes with the same methods)."""

    records_sent: Any  # labels: server
    records_acked: Any  # labels: server
    chunks_sent: Any  # labels: server
    chunks_acked: Any  # labels: server
    chunks_retried: Any  # labels: server
    chunks_failed: Any  # labels: server, reason
    chunks_dropped: Any
    bytes_sent: Any  # labels: server
    chunks_in_flight: Any
    server_up: Any  # labels: server
    last_ack: Any
