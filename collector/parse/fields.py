"""Value conversions shared by the text formats: `types` hints and Envoy/nginx dashes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_TRUE = frozenset({"true", "yes", "on", "1", "y", "t"})
_FALSE = frozenset({"false", "no", "off", "0", "n", "f"})


def _to_int(value: Any) -> Any:
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return value
        return int(number) if number.is_integer() else value


def _to_float(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return value


def _to_bool(value: Any) -> Any:
    if type(value) is bool:
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value


def _to_str(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value  # maps and lists stay as they are


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "str": _to_str,
}


def apply_types(records: list[dict[str, Any]], types: Mapping[str, str]) -> None:
    """Convert the named top-level fields in place.

    A value that does not convert is left as it was: a type hint must never lose data.
    """
    converters = [(key, CONVERTERS[kind]) for key, kind in types.items()]
    for record in records:
        for key, convert in converters:
            value = record.get(key)
            if value is not None:
                record[key] = convert(value)


def int_or_none(value: str | None) -> int | str | None:
    """Envoy and nginx write `-` for "no value"; numbers become ints, anything else stays."""
    if value is None or value == "-":
        return None
    if value.isdigit():
        return int(value)
    return value


def none_if_dash(value: str | None) -> str | None:
    return None if value == "-" else value
