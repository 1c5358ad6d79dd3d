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


class Matcher(Protocol):
    """A compiled pattern of `re` or of google-re2."""

    def search(self, text: Any, pos: int = ..., endpos: int = ...) -> Any: ...


def trigger_source(names: Iterable[str], engine: str = "re2") -> str:
    """Regex source (ASCII only) shared by the pre-scan and the careful pass's gate; its
    branches and what each covers are in `_branches`."""
    return "|".join(f"(?:{full})" for full, _ in _branches(names, engine))


def prefilter_source(names: Iterable[str], engine: str = "re2") -> str:
    """A cheap pattern that matches inside every match of the pre-scan's full pattern.

    The full pattern (trigger + `ESCAPES`) lets a match start at almost any byte (its
    context branches), which keeps RE2's DFA large and slow over a whole batch. This one
    keeps, for each branch, only a part every match of that branch holds (`_branches`
    pairs them), so a line with no match of this holds no match of the full pattern; the
    full pattern then runs only on the lines this flags (scan.py `TwoStage`).
    """
    cores = dict.fromkeys(core for _, core in _branches(names, engine))
    return "(?m)" + "|".join(f"(?:{core})" for core in [*cores, ESCAPES])


def _branches(names: Iterable[str], engine: str) -> list[tuple[str, str]]:
    """The trigger's branches, each with a part every one of its matches holds.

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
    # The first four branches all hold a brand's first digit, plain at the start of a
    # digit group (after a non-digit, an escape, or at a line start) or escaped, followed
    # by 11 digit units: that is their core. Starting only at group starts keeps the DFA
    # small (one count per digit run) and skips epoch timestamps (leading 1). The ISO
    # branches' core is their 14 plain digits (a core with their hex bitmaps would count
    # through every trace id and blow the DFA up); the others are cheap as they are.
    group_start = r"(?:^|[^0-9\n]|%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})"
    card_core = f"(?:{group_start}{first}|{esc_first}){units}"
    fourteen = "[0-9]{14}"
    iso_msg = r"[0-9]{4}[4-7C-Fc-f][0-9A-Fa-f]{15}(?:[0-9A-Fa-f]{16})?[0-9]{14}"
    iso_field2 = r"2[^0-9A-Za-z\n]{1,8}[0-9]{14}"
    tracks = r"[0-9]{12}[=^]|[0-9]{12}[Dd][0-9]{7}|B[0-9]{12}"
    emv = r"5[Aa][0-9A-Fa-f]{2}[0-9]{12}"
    names_src = names_pattern(names, scan_style=engine == "re2")
    # (full branch, a pattern every match of the full branch contains)
    return [
        (f"{bound}{first}(?:{short_group}|{long_run_ends})", card_core),
        (f"(?:{esc_first}|[G-Zg-z][A-Fa-f]*{first}){units}", card_core),
        (f"[A-Fa-f]{first}{units}[0-9]*[A-Za-z]*[G-Zg-z]", card_core),
        (f"[A-Fa-f]{first}(?:{short_group})", card_core),
        (tracks, tracks),
        (emv, emv),
        (rf"(?:^|[^0-9A-Fa-f\n]){iso_msg}", fourteen),
        (rf"(?:^|[^0-9\n])[ _.#\-]{{0,2}}0{{0,2}}{iso_field2}", fourteen),
        (BIG_FLOAT, BIG_FLOAT),
        (names_src, names_src),
    ]
