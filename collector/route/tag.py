"""The Fluent tag of a record: `sources[].tag` with `${source}`, `${file}`, `${record.a.b}`.

Aggregators route on tags (`<match payment.**>`), so a tag must stay a tag: values taken
from file names and records are reduced to `[A-Za-z0-9_.-]` (anything else becomes `_`)
and capped in length, and a missing or non-scalar record field gives `unknown`.
Templates that do not use `${record...}` are rendered once per file (`for_file`), which is
what the hot path calls.
"""

from __future__ import annotations

import os
import re
from typing import Any

_VAR = re.compile(r"\$\{([^}]*)\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_PART = 64
UNKNOWN = "unknown"


def sanitize(value: str) -> str:
    value = _UNSAFE.sub("_", value)[:_MAX_PART]
    return value or UNKNOWN


def file_part(path: str) -> str:
    """The file's base name without its last extension: `/var/log/app/pay-api.log` -> `pay-api`."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return sanitize(stem)


class TagTemplate:
    def __init__(self, template: str, source_name: str) -> None:
        # parts: literal text, or ("file",), or ("record", ("a", "b"))
        self._parts: list[str | tuple[str, tuple[str, ...]]] = []
        pos = 0
        for m in _VAR.finditer(template):
            if m.start() > pos:
                self._parts.append(template[pos : m.start()])
            name = m.group(1)
            if name == "source":
                self._parts.append(source_name)
            elif name == "file":
                self._parts.append(("file", ()))
            elif name.startswith("record.") and all(name.split(".")[1:]):
                self._parts.append(("record", tuple(name.split(".")[1:])))
            else:
                raise ValueError(
                    f"tag: unknown variable ${{{name}}} in {template!r} "
                    "(known: ${source}, ${file}, ${record.FIELD[.FIELD...]})"
                )
            pos = m.end()
        if pos < len(template):
            self._parts.append(template[pos:])
        self._per_record = any(isinstance(p, tuple) and p[0] == "record" for p in self._parts)

    @property
    def per_record(self) -> bool:
        return self._per_record

    def for_file(self, path: str) -> str | None:
        """The tag of every record of `path`, or None when it depends on the records."""
        if self._per_record:
            return None
        return "".join(p if isinstance(p, str) else file_part(path) for p in self._parts)

    def render(self, path: str, record: dict[str, Any]) -> str:
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
            elif part[0] == "file":
                out.append(file_part(path))
            else:
                out.append(_field(record, part[1]))
        return "".join(out)


def _field(record: dict[str, Any], keys: tuple[str, ...]) -> str:
    value: Any = record
    for key in keys:
        if not isinstance(value, dict):
            return UNKNOWN
        value = value.get(key)
    if value is None or isinstance(value, dict | list):
        return UNKNOWN
    if isinstance(value, bool):
        return "true" if value else "false"
    return sanitize(str(value))
