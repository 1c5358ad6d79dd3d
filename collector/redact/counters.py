"""What the redactor counts, as the objects it is handed (it defines no metrics).

The wiring passes the collector's own counter (`collector.pipeline.REDACT`); `collector
redact`, a benchmark or a test without them counts nothing and builds no registry. Label
values are rule names only (pan, sad_key, track, expiry, custom:NAME, fail_closed).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from collector.counting import uncounted


class RedactCounters(NamedTuple):
    """Prometheus counters (or look-alikes with `labels` and `inc`)."""

    redactions: Any  # labels: rule


UNCOUNTED = uncounted(RedactCounters)
