"""The collector's own metrics: one registry, every pipeline metric defined here.

The instruments are ours (metrics/instruments.py), not prometheus_client's: the same API
and exposition at a fraction of the memory (docs/decisions.md).

Stages update them per batch, not per line, so the metrics cost nothing measurable on the
hot path; the Forward client and the source routes are handed their bundles (`FORWARD`,
`ROUTE`) rather than importing them.
Label values never come from record content (only source names, server addresses, file
paths, rule names, fixed reasons).
"""

from __future__ import annotations

from collector import __version__
from collector.forward.counters import ClientCounters
from collector.metrics.core import Registry
from collector.metrics.instruments import Counter, Gauge, Histogram, Info
from collector.metrics.process import PlatformCollector, ProcessCollector
from collector.route.counters import RouteCounters

REGISTRY = Registry()
REGISTRY.register(ProcessCollector())
REGISTRY.register(PlatformCollector())

BUILD_INFO = Info("collector_build", "Version of the running collector.", registry=REGISTRY)
BUILD_INFO.info({"version": __version__})

# --- tail ---------------------------------------------------------------------------------
LINES_READ = Counter(
    "collector_lines_read_total", "Lines read from files.", ["source"], registry=REGISTRY
)
BYTES_READ = Counter(
    "collector_bytes_read_total", "Bytes read from files.", ["source"], registry=REGISTRY
)
LINES_TRUNCATED = Counter(
    "collector_lines_truncated_total",
    "Lines longer than max_line_bytes, truncated and flagged.",
    ["source"],
    registry=REGISTRY,
)
PARTIAL_LINES = Counter(
    "collector_partial_lines_total",
    "Lines shipped without their newline (at shutdown or after partial_line_timeout).",
    ["source"],
    registry=REGISTRY,
)
FILES_OPEN = Gauge(
    "collector_files_open", "Files currently held open.", ["source"], registry=REGISTRY
)
FILES_WAITING = Gauge(
    "collector_files_waiting",
    "Files with unread data waiting for a handle (max_open_files is reached).",
    ["source"],
    registry=REGISTRY,
)
ROTATIONS = Counter(
    "collector_rotations_total",
    "Rotations seen, by kind (rename, truncate, delete).",
    ["source", "kind"],
    registry=REGISTRY,
)
FILE_LAG_BYTES = Gauge(
    "collector_file_lag_bytes",
    "Bytes between the read position and the end of the file.",
    ["source", "file"],
    registry=REGISTRY,
)
TAIL_PAUSED = Gauge(
    "collector_tail_paused",
    "1 while reading is paused because max_in_flight_bytes is reached.",
    registry=REGISTRY,
)

# --- parse --------------------------------------------------------------------------------
RECORDS_PARSED = Counter(
    "collector_records_parsed_total",
    "Records produced by parsers.",
    ["source"],
    registry=REGISTRY,
)
PARSE_ERRORS = Counter(
    "collector_parse_errors_total",
    "Lines that did not parse, shipped as text with _parse_error.",
    ["source", "reason"],
    registry=REGISTRY,
)

# --- redact -------------------------------------------------------------------------------
REDACTIONS = Counter(
    "collector_redactions_total",
    "Values redacted, by rule (pan, sad_key, track, expiry, custom:NAME, fail_closed).",
    ["rule"],
    registry=REGISTRY,
)
RECORDS_SCANNED = Counter(
    "collector_redact_records_walked_total",
    "Records the pre-scan flagged for the careful redaction pass (the walk or its JSON shortcut).",
    registry=REGISTRY,
)

# What a source route is handed (collector/route/counters.py).
ROUTE = RouteCounters(
    lines_read=LINES_READ,
    bytes_read=BYTES_READ,
    records_parsed=RECORDS_PARSED,
    parse_errors=PARSE_ERRORS,
    records_walked=RECORDS_SCANNED,
    lines_truncated=LINES_TRUNCATED,
    partial_lines=PARTIAL_LINES,
)

# --- forward ------------------------------------------------------------------------------
RECORDS_SENT = Counter(
    "collector_forward_records_sent_total",
    "Records sent (each try counts).",
    ["server"],
    registry=REGISTRY,
)
RECORDS_ACKED = Counter(
    "collector_forward_records_acked_total",
    "Records acknowledged by the receiver.",
    ["server"],
    registry=REGISTRY,
)
CHUNKS_SENT = Counter(
    "collector_forward_chunks_sent_total",
    "Chunks sent (each try counts).",
    ["server"],
    registry=REGISTRY,
)
CHUNKS_ACKED = Counter(
    "collector_forward_chunks_acked_total",
    "Chunks acknowledged.",
    ["server"],
    registry=REGISTRY,
)
CHUNKS_RETRIED = Counter(
    "collector_forward_chunks_retried_total",
    "Chunks sent again after a failure or timeout.",
    ["server"],
    registry=REGISTRY,
)
CHUNKS_FAILED = Counter(
    "collector_forward_chunk_failures_total",
    "Failed tries to deliver a chunk, by reason "
    "(connect, timeout, closed, auth, tls, protocol, internal).",
    ["server", "reason"],
    registry=REGISTRY,
)
CHUNKS_DROPPED = Counter(
    "collector_forward_chunks_dropped_total",
    "Chunks dropped after retry_limit tries (only when retry_limit > 0).",
    registry=REGISTRY,
)
BYTES_SENT = Counter(
    "collector_forward_bytes_sent_total",
    "Bytes written to receivers.",
    ["server"],
    registry=REGISTRY,
)
CHUNKS_IN_FLIGHT = Gauge(
    "collector_forward_chunks_in_flight", "Chunks sent and not yet acked.", registry=REGISTRY
)
SERVER_UP = Gauge(
    "collector_forward_server_up",
    "1 when a connection to the server is established and healthy.",
    ["server"],
    registry=REGISTRY,
)
LAST_ACK = Gauge(
    "collector_forward_last_ack_timestamp_seconds",
    "Unix time of the last ack from any receiver.",
    registry=REGISTRY,
)

# What the Forward client is handed (collector/forward/counters.py).
FORWARD = ClientCounters(
    records_sent=RECORDS_SENT,
    records_acked=RECORDS_ACKED,
    chunks_sent=CHUNKS_SENT,
    chunks_acked=CHUNKS_ACKED,
    chunks_retried=CHUNKS_RETRIED,
    chunks_failed=CHUNKS_FAILED,
    chunks_dropped=CHUNKS_DROPPED,
    bytes_sent=BYTES_SENT,
    chunks_in_flight=CHUNKS_IN_FLIGHT,
    server_up=SERVER_UP,
    last_ack=LAST_ACK,
)

# --- pipeline -----------------------------------------------------------------------------
IN_FLIGHT_BYTES = Gauge(
    "collector_in_flight_bytes", "File bytes read and not yet acked.", registry=REGISTRY
)
IN_FLIGHT_LIMIT = Gauge(
    "collector_in_flight_limit_bytes", "The max_in_flight_bytes bound.", registry=REGISTRY
)
OLDEST_UNACKED_AGE = Gauge(
    "collector_oldest_unacked_age_seconds",
    "Age of the oldest record read and not yet acked (0 when none).",
    registry=REGISTRY,
)
DELIVERY_LATENCY = Histogram(
    "collector_delivery_latency_seconds",
    "Time from reading a batch to the ack that covers it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
CHECKPOINT_WRITES = Counter(
    "collector_checkpoint_writes_total", "Checkpoint files written.", registry=REGISTRY
)
CHECKPOINT_ERRORS = Counter(
    "collector_checkpoint_errors_total", "Checkpoint writes that failed.", registry=REGISTRY
)
CHECKPOINT_AGE = Gauge(
    "collector_checkpoint_age_seconds",
    "Seconds since the checkpoint file was last written successfully.",
    registry=REGISTRY,
)

# --- derived metrics and textfiles (collector/derived.py, metrics/textfile.py) -------
DERIVED_LABEL_OVERFLOW = Counter(
    "collector_derived_label_overflow_total",
    "Records of a derived metric whose label value was replaced by __overflow__ (cap reached).",
    ["metric", "label"],
    registry=REGISTRY,
)
DERIVED_RECORDS_SKIPPED = Counter(
    "collector_derived_records_skipped_total",
    "Matching records a derived metric could not use (missing_field, not_numeric, negative).",
    ["metric", "reason"],
    registry=REGISTRY,
)
DERIVED_SERIES = Gauge(
    "collector_derived_series",
    "Live label sets of a derived metric (bounded by the caps, shrunk by expiry).",
    ["metric"],
    registry=REGISTRY,
)
TEXTFILE_ERRORS = Counter(
    "collector_textfile_errors_total",
    "Textfiles (each version) skipped whole, by reason "
    "(read, too_large, parse, timestamp, duplicate, conflict, invalid).",
    ["reason"],
    registry=REGISTRY,
)
