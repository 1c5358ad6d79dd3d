"""Human units in config (`5s`, `64MiB`) as types msgspec can validate.

`Seconds` and `ByteSize` are plain `float`/`int` subclasses so the rest of the code
uses them as numbers; only config decoding knows they accept strings.
"""

from __future__ import annotations

import re
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d)?\s*$")
_DURATION_FACTORS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    None: 1.0,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
}


class Seconds(float):
    """A duration in seconds; config accepts numbers or `250ms`, `5s`, `1m`, `2h`."""


class ByteSize(int):
    """A size in bytes; config accepts integers or `512KiB`, `64MiB`, `1GB`."""


def parse_duration(value: Any) -> Seconds:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5s or 250ms")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return Seconds(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return Seconds(float(m.group(1)) * _DURATION_FACTORS[m.group(2)])
    raise ValueError(f"expected a duration such as 5s or 250ms, got {value!r}")


def parse_size(value: Any) -> ByteSize:
    if isinstance(value, bool):
        raise ValueError("expected a size such as 64MiB")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return ByteSize(value)
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            factor = _SIZE_FACTORS[(m.group(2) or "").lower()]
            return ByteSize(int(float(m.group(1)) * factor))
    raise ValueError(f"expected a size such as 512KiB or 64MiB, got {value!r}")


def dec_hook(type_: type, value: Any) -> Any:
    """msgspec decode hook for the unit types."""
    if type_ is Seconds:
        return parse_duration(value)
    if type_ is ByteSize:
        return parse_size(value)
    raise NotImplementedError(f"unsupported type {type_!r}")
