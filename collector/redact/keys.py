"""Which names mark sensitive data, and the one way a name is turned into a pattern.

A name such as `security_code` is a list of words. It matches a key or a stretch of text
when its words appear in order, in any case, joined by nothing or by separators
(`securityCode`, `SECURITY-CODE`, `card.security_code`), starting at a word start and
ending at a word end: `cardPin` and `pin_block` hold `pin`, `shipping` and `spinner`
do not. The same builder makes the pre-scan's pattern (`scan_style=True`, no look-behind
so google-re2 can run it) and the careful walk's patterns, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Sensitive authentication data (PCI DSS 3.2: never stored after authorization).
SAD_NAMES: tuple[str, ...] = (
    "cvv",
    "cvc",
    "cvn",
    "cav",
    "csc",
    "cid",
    "security_code",
    "card_verification",
    "pin",
    "pinblock",
    "track1",
    "track2",
    "track_data",
    "trackdata",
    "magstripe",
    "mag_stripe",
)

# Expiry dates: masked (digits become *), not removed.
EXPIRY_NAMES: tuple[str, ...] = (
    "exp",
    "expiry",
    "expiration",
    "expdate",
    "exp_date",
    "exp_month",
    "exp_year",
    "valid_thru",
    "valid_through",
)

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SEP = "[ _.\\-]{0,2}"


def words(name: str) -> list[str]:
    """`securityCode`, `security_code`, `SECURITY-CODE` -> ['security', 'code']."""
    return [w.lower() for w in _WORD.findall(name)]


def _letters(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _rest_pattern(name: str) -> str:
    """Everything after the first letter: word letters, optional separators between."""
    ws = words(name)
    if not ws or not ws[0][0].isalpha():
        raise ValueError(f"key name {name!r} must start with a letter")
    body = _letters(ws[0][1:])
    for w in ws[1:]:
        body += _SEP + _letters(w)
    return body


def names_pattern(names: Iterable[str], scan_style: bool = False) -> str:
    """Regex source matching any of `names` at word boundaries (see module doc).

    The default style suits Python's `re`: it opens with a class of first letters (so the
    engine skips every other char fast), then checks the word start with a look-behind on
    the two chars just read: an uppercase first letter, or one after a non-letter.
    `scan_style` consumes the char before instead (RE2 has no look-behind).
    """
    by_first: dict[str, list[str]] = {}
    for name in names:
        by_first.setdefault(words(name)[0][0] if words(name) else "", []).append(
            _rest_pattern(name)
        )
    by_first.pop("", None)
    if scan_style:
        alts = [
            f"(?:{c.upper()}|(?:^|[^A-Za-z\\n]){c})(?:{'|'.join(rests)})"
            for c, rests in by_first.items()
        ]
        return f"(?:{'|'.join(alts)})(?:[^a-z\\n]|$)"
    firsts = "".join(c + c.upper() for c in by_first)
    alts = [f"(?<=[{c}{c.upper()}])(?:{'|'.join(rests)})" for c, rests in by_first.items()]
    return f"[{firsts}](?<![A-Za-z][a-z])(?:{'|'.join(alts)})(?![a-z])"


# ISO 8583 field 2 keys: DE2 / F2 / field_002 / "2" (jPOS-style dumps as JSON). Their
# value may carry the LLVAR length prefix glued to the PAN (`164111...`). Fields 35 and 45
# hold track data, which the text pass removes by its shape under any key.
ISO_PAN_KEY = re.compile(r"(?:de|f|fld|field|bit|p|iso)?[ _\-.#]{0,2}0{0,2}2", re.IGNORECASE)
# Keys and nearby words that say "card", which admit 12-digit Maestro numbers.
# `card` and `account` anywhere (`cardNumber`, `debitcard`); the short ones as whole words.
CARD_WORDS: tuple[str, ...] = ("card", "account")
CARD_WORDS_WHOLE: tuple[str, ...] = ("pan", "cc", "acct", "maestro")
CARD_WORD = re.compile(
    "|".join([*CARD_WORDS, rf"(?<![a-z])(?:{'|'.join(CARD_WORDS_WHOLE)})(?![a-z])"]),
    re.IGNORECASE | re.ASCII,
)


class KeyKind:
    NONE = 0
    SAD = 1
    EXPIRY = 2
    ISO_PAN = 3  # ISO 8583 field 2: the value may carry a length prefix
    CARDISH = 4


class KeyClassifier:
    """What a record key says about its value; cached, keys repeat across records."""

    CACHE_LIMIT = 4096

    def __init__(self, sad_names: Iterable[str], expiry_names: Iterable[str]) -> None:
        self._sad = re.compile(names_pattern(sad_names))
        self._expiry = re.compile(names_pattern(expiry_names))
        # Read directly by the walk's hot loop; filled by `kind`.
        self.cache: dict[str, int] = {}

    def kind(self, key: str) -> int:
        k = self.cache.get(key)
        if k is None:
            k = self._classify(key)
            if len(self.cache) >= self.CACHE_LIMIT:
                self.cache.clear()
            self.cache[key] = k
        return k

    def _classify(self, key: str) -> int:
        if self._sad.search(key):
            return KeyKind.SAD
        if self._expiry.search(key):
            return KeyKind.EXPIRY
        if ISO_PAN_KEY.fullmatch(key):
            return KeyKind.ISO_PAN
        if CARD_WORD.search(key):
            return KeyKind.CARDISH
        return KeyKind.NONE
