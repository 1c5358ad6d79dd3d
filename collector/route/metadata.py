"""Where a record came from: the pod, from the Kubernetes downward API, read once at start.

Env vars (`POD_NAME`, `POD_NAMESPACE`, `NODE_NAME`, `POD_IP`, ... set with `fieldRef`) and
the labels/annotations files a `downwardAPI` volume mounts (one `key="value"` per line,
values quoted the way Go's `%q` quotes them). Computed once: the pipeline attaches the same
dict to every record, so it costs nothing per line. Empty values are left out rather than
shipped as "".
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from collector.route.config import MetadataConfig

log = logging.getLogger("collector.route")

_ESCAPE = re.compile(
    r'\\(?:([abfnrtv\\"\'])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3}))'
)
_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


def _escape(m: re.Match[str]) -> str:
    simple, hex2, u4, u8, octal = m.groups()
    if simple is not None:
        return _SIMPLE[simple]
    if hex2 is not None or octal is not None:
        byte = int(hex2, 16) if hex2 is not None else int(octal, 8)
        return chr(byte) if byte < 0x80 else "\ufffd"  # a lone byte of broken UTF-8
    code = int(u4 or u8, 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def unquote(value: str) -> str:
    """A Go `%q` string without its quotes; an unquoted value is returned as written."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _ESCAPE.sub(_escape, value[1:-1])
    return value


def parse_downward_file(text: str) -> dict[str, str]:
    """`key="value"` lines (the downward API's labels/annotations format) as a dict."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        result[key] = unquote(value)
    return result


def read_downward_file(path: str | None) -> dict[str, str]:
    """The file's pairs; a file that is not mounted gives {} (metadata is best effort)."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_downward_file(f.read())
    except FileNotFoundError:
        return {}
    except OSError as e:
        log.warning("cannot read pod metadata file %s: %s", path, e.strerror)
        return {}


def _excluded(key: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def pod_metadata(cfg: MetadataConfig, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The metadata dict the pipeline puts under `cfg.key`; {} when disabled or empty."""
    if not cfg.enabled:
        return {}
    env = os.environ if env is None else env
    meta: dict[str, Any] = {}
    for field, var in cfg.env.items():
        value = env.get(var)
        if value:
            meta[field] = value
    labels = {k: v for k, v in read_downward_file(cfg.labels_file).items() if v}
    if labels:
        meta["labels"] = labels
    annotations = {
        k: v
        for k, v in read_downward_file(cfg.annotations_file).items()
        if v and not _excluded(k, cfg.exclude_annotations)
    }
    if annotations:
        meta["annotations"] = annotations
    return meta
