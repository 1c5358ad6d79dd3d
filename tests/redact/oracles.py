"""Leak and damage oracles for generated cases: counts and booleans, never values.

A `Verdict` says, for one shipped case: how many planted PANs can still be read (digits
after undoing every escape and Unicode form, separators and all other characters dropped),
how many SAD values survive, whether a mask shows more than the first six and last four,
whether an embedded JSON / form / XML document still parses with its keys, and whether
result fields that must stay were changed. It compares with `case.background`, the same
line rendered with other secrets, so a short value (a CVV) that also occurs by chance
elsewhere in the line is not counted as a leak.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec

from tests.redact.hiding import Case
from tests.redact.reference import SEPARATORS, cards, digits_of, luhn_ok, normalise

MASK_CHARS = frozenset("*xX#•●█")
_TOKEN = re.compile(r"(?<![0-9])[0-9]+(?![0-9])")


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def leaves(value: Any, key: str = "") -> list[tuple[str, str]]:
    """(parent key, text) for every key, string, integer and integral float in a record."""
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, float):
        # an integral float is a number someone wrote in exponent form (4.1e15)
        return [(key, str(int(value)))] if value.is_integer() and abs(value) < 1e20 else []
    if isinstance(value, int):
        return [(key, str(value))]
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for k, v in value.items():
            out.append((key, str(k)))
            out.extend(leaves(v, str(k)))
        return out
    if isinstance(value, list):
        return [t for v in value for t in leaves(v, key)]
    return [(key, str(value))]


def _runs_with_context(text: str) -> list[tuple[str, str, str]]:
    """Digit runs (separators dropped) of the normalised text, with the characters before
    and after each run (to see whether it touches a mask)."""
    norm = normalise(text).text
    runs: list[tuple[str, str, str]] = []
    cur: list[str] = []
    before = ""
    last = ""
    for ch in norm:
        if ch.isascii() and ch.isdigit():
            if not cur:
                before = last
            cur.append(ch)
        elif ch in SEPARATORS and cur:
            continue
        else:
            if cur:
                runs.append(("".join(cur), before, ch))
                cur = []
        if ch not in SEPARATORS:
            last = ch
    if cur:
        runs.append(("".join(cur), before, ""))
    return runs


def overexposed(pan: str, out_text: str, background_text: str) -> bool:
    """More than the first six or the last four digits of `pan` readable next to a mask,
    or any seven consecutive digits of it readable anywhere (not present by chance in the
    background line)."""
    bg = {r for r, _, _ in _runs_with_context(background_text)}
    for run, before, after in _runs_with_context(out_text):
        if run in bg:
            continue
        for i in range(len(pan) - 6):
            piece = pan[i : i + 7]
            if piece in run and not any(piece in b for b in bg):
                return True
        if after in MASK_CHARS and any(run.endswith(pan[:k]) for k in range(7, len(pan))):
            return True
        if before in MASK_CHARS and any(run.startswith(pan[-k:]) for k in range(5, len(pan))):
            return True
    return False


def _tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(normalise(text).text))


def _get(record: Any, path: tuple) -> Any:
    for step in path:
        try:
            record = record[step]
        except (KeyError, IndexError, TypeError):
            return None
    return record


def _json_keys(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        out = set()
        for k, v in value.items():
            out.add(prefix + "/" + k)
            out |= _json_keys(v, prefix + "/" + k)
        return out
    if isinstance(value, list):
        return {k for i, v in enumerate(value) for k in _json_keys(v, f"{prefix}[{i}]")}
    return set()


def parses(kind: str, before: Any, after: Any) -> bool:
    """The embedded document still parses, with the same keys (form / JSON) or elements."""
    if not isinstance(after, str) or not isinstance(before, str):
        return False
    try:
        if kind == "json":
            return _json_keys(json.loads(after)) == _json_keys(json.loads(before))
        if kind == "form":
            a = urllib.parse.parse_qsl(after, strict_parsing=True, keep_blank_values=True)
            b = urllib.parse.parse_qsl(before, strict_parsing=True, keep_blank_values=True)
            return [k for k, _ in a] == [k for k, _ in b] and not re.search(r"[\s\"<>]", after)
        if kind == "xml":
            ta, tb = ET.fromstring(after), ET.fromstring(before)
            return [e.tag for e in ta.iter()] == [e.tag for e in tb.iter()]
    except (ValueError, ET.ParseError):
        return False
    raise ValueError(kind)


def kept(label: str, value: str, text: str) -> bool:
    norm = normalise(text).text
    pattern = re.escape(label) + r"[\"'\s:=>\])]{1,8}" + re.escape(value) + r"(?![0-9A-Za-z])"
    return re.search(pattern, norm) is not None


@dataclass
class Verdict:
    pan_leaks: int = 0
    sad_leaks: Counter[str] = field(default_factory=Counter)
    overexposed: int = 0
    broken: int = 0
    changed_keep: int = 0

    @property
    def leaked(self) -> bool:
        return bool(self.pan_leaks or sum(self.sad_leaks.values()))

    @property
    def ok(self) -> bool:
        return not (self.leaked or self.overexposed or self.broken or self.changed_keep)


_CARDISH_KEY = re.compile(r"(?i)(pan|card.?num|cardnumbers?|number|ccnum|de0*2$|field_2)")


def reference_cards(record: Any) -> int:
    """Card windows (not exempt) the reference finds in every key, string and integer."""
    return sum(
        len(cards(text, context=bool(_CARDISH_KEY.search(key)))) for key, text in leaves(record)
    )


def judge(case: Case, shipped: Any) -> Verdict:
    original = msgspec.json.decode(case.line)
    background = as_text(msgspec.json.decode(case.background))
    out = as_text(shipped)
    v = Verdict()
    digits = digits_of(out)
    for pan in case.pans:
        if pan in digits:
            v.pan_leaks += 1
        elif overexposed(pan, out, background):
            v.overexposed += 1
    out_tokens, bg_tokens = _tokens(out), _tokens(background)
    out_norm, bg_norm = normalise(out).text.upper(), normalise(background).text.upper()
    for sad in case.sad:
        if sad.kind in ("cvv", "pin_digits"):  # short digit values: whole tokens
            leaked = out_tokens[sad.value] > bg_tokens[sad.value]
        elif sad.kind == "track":
            leaked = sad.value in digits
        else:  # pin block, expiry: text
            leaked = out_norm.count(sad.value.upper()) > bg_norm.count(sad.value.upper())
        if leaked:
            v.sad_leaks[sad.kind] += 1
    if case.embedded and not parses(
        case.embedded, _get(original, case.path), _get(shipped, case.path)
    ):
        v.broken += 1
    v.changed_keep = sum(not kept(label, value, out) for label, value in case.keep)
    return v


def reference_misses(case: Case) -> int:
    """Planted Luhn-valid PANs the reference does not find in the input line (a generator
    or reference bug, never a redactor's)."""
    record = msgspec.json.decode(case.line)
    found = {
        f.digits
        for key, text in leaves(record)
        for f in cards(text, context=bool(_CARDISH_KEY.search(key)))
    }
    return sum(1 for pan in case.pans if luhn_ok(pan) and pan not in found)
