"""Options of the parsers (`sources[].parser`)."""

from __future__ import annotations

from typing import Literal

import msgspec


class ParserOptions(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Per-source parser options; each format reads the ones it needs.

    `time_key`/`time_format` pick the event time from the record (RFC 3339 and epoch
    seconds/millis by default); without them, or when the value does not parse, the time
    the line was read is used.
    """

    time_key: str | None = None
    time_format: Literal["auto", "rfc3339", "epoch", "epoch_ms", "epoch_us", "epoch_ns"] = "auto"
    keep_time_key: bool = True
    regex: str | None = None
    types: dict[str, Literal["int", "float", "bool", "str"]] = {}
    message_key: str = "message"


class MetadataConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Pod metadata added to every record under `key` (from the downward API)."""

    enabled: bool = True
    key: str = "kubernetes"
    # record field -> environment variable, read once at start
    env: dict[str, str] = msgspec.field(
        default_factory=lambda: {
            "pod_name": "POD_NAME",
            "namespace": "POD_NAMESPACE",
            "node_name": "NODE_NAME",
            "pod_ip": "POD_IP",
            "container_name": "APP_CONTAINER_NAME",
        }
    )
    labels_file: str | None = "/etc/podinfo/labels"
    annotations_file: str | None = "/etc/podinfo/annotations"
    file_key: str | None = "file"  # adds the source file path under this key; null = off
