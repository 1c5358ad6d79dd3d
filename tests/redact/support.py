"""The pipeline's road through the redactor, and leak oracles that never print a PAN.

`ship` does what collector/records.py does: pre-scan the raw lines, parse them all, redact
only the flagged ones (the JSON shortcut, else the walk). Property tests go through it so
that a form the pre-scan misses leaks, and fails a test, exactly as it would in production.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import msgspec

from collector.redact import Redactor
from collector.redact.cards import MAX_LENGTH, is_pan

_ESCAPED_CHAR = re.compile(r"\\+u([0-9a-fA-F]{4})|\\+x([0-9a-fA-F]{2})")
_SEPARATORS = re.compile(r"[\s.+\-\\]")
_DIGIT_RUN = re.compile(r"[0-9]{13,}")


def ship(redactor: Redactor, lines: list[bytes]) -> list[Any]:
    """JSON lines as the pipeline ships them (records): scan, then for the flagged the JSON
    shortcut where it applies and the careful walk for the rest (records.py's order)."""
    flagged = redactor.scan(lines)
    records = [msgspec.json.decode(line) for line in lines]
    rest = redactor.redact_json(lines, records, flagged)
    redactor.redact_records(records, rest)
    return records


def ship_raw(redactor: Redactor, lines: list[bytes]) -> list[str]:
    """Raw mode: each line as text, redacted when the scan flags it."""
    flagged = set(redactor.scan(lines))
    return [
        redactor.redact_text(line.decode()) if i in flagged else line.decode()
        for i, line in enumerate(lines)
    ]


def normalized(text: str) -> str:
    """What a reader could rebuild: escapes and URL encoding undone, separators dropped."""
    for _ in range(3):
        text = _ESCAPED_CHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
        text = urllib.parse.unquote(text)
    return _SEPARATORS.sub("", text)


def as_text(value: Any) -> str:
    """Shipped form of a record or text, for the oracles."""
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def leaks(value: Any, pans: list[str]) -> list[int]:
    """Indices of `pans` whose digits can still be read in `value` (never the PANs)."""
    flat = normalized(as_text(value))
    return [i for i, pan in enumerate(pans) if pan in flat]


def _leaves(value: Any) -> list[str]:
    """Keys, strings and integers as text; floats are left out: their mantissa digits are
    not a PAN anyone logged, and the walk checks floats only when they are integral."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return []
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_leaves(k), *_leaves(v))]
    if isinstance(value, list):
        return [t for v in value for t in _leaves(v)]
    return [str(value)]


def visible_cards(value: Any) -> int:
    """How many maximal 13-19 digit runs in the shipped values are cards (Luhn + brand)."""
    count = 0
    for text in _leaves(value):
        for _ in range(3):
            text = _ESCAPED_CHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
        count += sum(
            1
            for m in _DIGIT_RUN.finditer(text)
            if len(m.group()) <= MAX_LENGTH and is_pan(m.group())
        )
    return count


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types (an int stays an int) and the same key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
