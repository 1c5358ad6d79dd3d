"""Regex sources shared by the pre-scan and the careful pass, in one place.

`DIGIT` and `SEP` say how a digit and a grouping separator may be written; the trigger says
what may need the careful pass. The pre-scan runs the trigger over raw lines and the walk
runs it over a record's strings, so both decide "may hold card data" the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from collector.redact.cards import FIRST_DIGITS
from collector.redact.keys import names_pattern

# One digit as it may be written: plain, JSON/C escaped (\u0034, \\u0034, \x34), URL-encoded.
DIGIT = r"(?:[0-9]|\\+u003[0-9]|%3[0-9]|\\+x3[0-9])"
# One grouping separator: space, dot, dash, plus, and their URL / JSON escapes.
SEP = r"(?:[ .+\-]|%20|%2[bBdDeE]|\\+u002[0bBdDeE]|\\+x2[0bBdDeE])"

# \u00XX escapes of digits, of the separators and of ASCII letters: a JSON writer may use
# any of them, and the decoded value then holds what the raw bytes did not show.
ESCAPES = r"\\u00(?:3[0-9]|2[0bBdDeE]|[4-7][0-9a-fA-F])"
# A float in exponent form large enough to be a card (msgspec reads it as a whole number).
BIG_FLOAT = r"[0-9]\.[0-9]*[eE]\+?1[1-8]|[0-9][eE]\+1[1-8]"
# Twelve digit units, each pair joined by at most one separator: every branch of the
# trigger but the float and the key names holds such a stretch (see `prefilter_source`).
TWELVE_UNITS = f"{DIGIT}(?:{SEP}?{DIGIT}){{11}}"


class Matcher(Protocol):
    """A compiled pattern of `re` or of google-re2."""

    def search(self, text: Any, pos: int = ..., endpos: int = ...) -> Any: ...


def trigger_source(names: Iterable[str], engine: str = "re2") -> str:
    """Regex source (ASCII only) shared by the pre-scan and the careful pass's gate.

    Each branch covers what one careful pass can change (text.py), so a string with no
    match is left untouched by all of them:
    - a bare PAN starts a digit group (see `bound`) with a brand's first digit and has 12+
      digit units: epoch ms/us/ns (leading 1) and digits inside hex ids never match;
    - track 1/2 shapes and EMV tag 57: 12 digits before `=` or `^`, around `D`, after `B`;
    - EMV tag 5A: `5A`, a length byte, 12 digits;
    - an ISO 8583 message: MTI, bitmap(s), then LL and 12 digits; a field-2 label or key
      (`DE2`, `F2`, `"2"`) followed by LL and 12 digits;
    - a float in exponent form large enough to be a card;
    - a sensitive or expiry key name.
    """
    first = f"[{FIRST_DIGITS}]"
    # Which digit groups may start a card (text.py `_in_hex_id`): a run of 12+ digits glued
    # only to hex letters (trace ids, span ids, hashes) is not one, so it is not flagged;
    # every other group with a brand's first digit and 12+ digit units is. Spelled out
    # without look-around for RE2:
    # - no letter before (line start, a non-alphanumeric char, an escape sequence) and
    #   either a short first group (a separator or an escaped digit within 12 digits), or
    #   12+ digits followed by no letter, or followed later by a non-hex letter;
    # - letters before, one of them not hex (`ref4111`);
    # - hex letters before, and a short first group or a non-hex letter after;
    # - a first digit written as an escape.
    bound = r"(?:^|[^0-9A-Za-z\n]|%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})"
    esc_digit = r"(?:\\+u003[0-9]|%3[0-9]|\\+x3[0-9])"
    esc_first = rf"(?:\\+u003{first}|%3{first}|\\+x3{first})"
    units = f"(?:{SEP}?{DIGIT}){{11}}"
    short_group = "|".join(
        f"[0-9]{{{k}}}(?:{SEP}{DIGIT}|{esc_digit})(?:{SEP}?{DIGIT}){{{10 - k}}}" for k in range(11)
    )
    long_run_ends = r"[0-9]{11}(?:[0-9]*(?:[^0-9A-Za-z\n]|$)|[0-9A-Fa-f]*[G-Zg-z])"
    branches = [
        f"{bound}{first}(?:{short_group}|{long_run_ends})",
        f"(?:{esc_first}|[G-Zg-z][A-Fa-f]*{first}){units}",
        f"[A-Fa-f]{first}{units}[0-9]*[A-Za-z]*[G-Zg-z]",
        f"[A-Fa-f]{first}(?:{short_group})",
        r"[0-9]{12}[=^]|[0-9]{12}[Dd][0-9]{7}|B[0-9]{12}",
        r"5[Aa][0-9A-Fa-f]{2}[0-9]{12}",
        r"(?:^|[^0-9A-Fa-f\n])[0-9]{4}[4-7C-Fc-f][0-9A-Fa-f]{15}(?:[0-9A-Fa-f]{16})?[0-9]{14}",
        r"(?:^|[^0-9\n])[ _.#\-]{0,2}0{0,2}2[^0-9A-Za-z\n]{1,8}[0-9]{14}",
        BIG_FLOAT,
        names_pattern(names, scan_style=engine == "re2"),
    ]
    return "|".join(f"(?:{b})" for b in branches)


def prefilter_source(names: Iterable[str], engine: str = "re2") -> str:
    """A cheap pattern that matches inside every match of the pre-scan's full pattern.

    The full pattern (trigger + `ESCAPES`) lets a match start at almost any byte (its
    context branches), which keeps RE2's DFA large and slow over a whole batch. This one
    keeps only what every full match must hold: twelve digit units (branches 1-8 of
    `trigger_source` each hold one: a brand digit + 11 units, 12 or 14 plain digits), the
    big float, the key names, or a hiding escape. A line with no match of this holds no
    match of the full pattern; the full pattern then runs only on the lines this flags.
    """
    names_src = names_pattern(names, scan_style=engine == "re2")
    return f"(?m){TWELVE_UNITS}|{ESCAPES}|{BIG_FLOAT}|{names_src}"
