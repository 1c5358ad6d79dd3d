"""Config of what a source's route does: one `sources:` entry whole, and `metadata:`."""

from __future__ import annotations

from typing import Literal

import msgspec

from collector.parse.config import ParserOptions
from collector.tail.config import TailConfig


class SourceConfig(TailConfig, forbid_unknown_fields=True, omit_defaults=True):
    """One `sources:` entry: a set of globs read, parsed and tagged alike."""

    # The parser: `json`, `spring`, `envoy`, `nginx`, `logfmt`, `regex`, `text` (docs/parsers.md).
    format: Literal["json", "spring", "envoy", "nginx", "logfmt", "regex", "text"] = "json"
    parser: ParserOptions = msgspec.field(default_factory=ParserOptions)
    # structured: each line becomes a map; raw: the redacted line is shipped under `log`.
    mode: Literal["structured", "raw"] = "structured"
    # Fluent tag: `${source}`, `${file}` (base name without extension), `${record.a.b}`
    tag: str = "collector.${source}"


class MetadataConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Pod metadata added to every record under `key` (from the downward API)."""

    # Add pod metadata and the file path to every record.
    enabled: bool = True
    # Pod metadata goes under this key (omitted when there is none)
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
    # Downward-API volume files, read once at start
    labels_file: str | None = "/etc/podinfo/labels"
    # Downward-API volume files, read once at start
    annotations_file: str | None = "/etc/podinfo/annotations"
    # annotations left out (shell-style patterns): big, and of no use on every record
    exclude_annotations: list[str] = msgspec.field(
        default_factory=lambda: [
            "kubectl.kubernetes.io/last-applied-configuration",
            "kubernetes.io/config.*",
        ]
    )
    file_key: str | None = "file"  # adds the source file path under this key; null = off
