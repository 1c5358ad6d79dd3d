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

# Sensitive authentication data (PCI DSS 3.3.1: never stored after authorization), by
# the names gateways and ISO libraries give them. A key or label holding one of these is
# SAD unless a QUALIFIER follows it (`cvc_check`, `cvvResult`, `pin_required`: results
# a payment team debugs with, not the secret).
SAD_NAMES: tuple[str, ...] = (
    "cvv",
    "cvc",
    "cvn",
    "cav",
    "csc",
    "cid",
    "cvd",
    "fsv",
    "cv_number",
    "cv_num",
    "card_code",
    "sec_val",
    "security_code",
    "card_verification",
    "verification_value",
    "pin",
    "pinblock",
    "track1",
    "track2",
    "track_data",
    "trackdata",
    "magstripe",
    "mag_stripe",
)

# Words that, after a SAD or expiry name, make the key a fact about it, not the value.
QUALIFIERS: frozenset[str] = frozenset(
    (
        "check",
        "checked",
        "result",
        "results",
        "response",
        "verification",
        "verified",
        "verify",
        "indicator",
        "status",
        "required",
        "present",
        "presence",
        "count",
        "attempts",
        "tries",
        "policy",
        "length",
        "len",
        "match",
        "matched",
        "mode",
        "type",
        "method",
        "capability",
        "supported",
        "entry",
        "format",
        "enabled",
        "error",
        "reason",
        "outcome",
        "valid",
        "validation",
        "rule",
        "rules",
        "last",
        "first",
        "bin",
        "masked",
        "hash",
        "hashed",
        "token",
        "tokenized",
        "fingerprint",
        "suffix",
        "prefix",
        "brand",
        "country",
        "days",
        "window",
        "at",
        "ms",
    )
)

# Fields that say they hold a card number: their value is masked whatever its checksum
# (12-19 digits, separators allowed, an ISO 8583 length prefix understood).
PAN_NAMES: tuple[str, ...] = (
    "pan",
    "pans",
    "card_number",
    "card_numbers",
    "card_no",
    "card_num",
    "card_pan",
    "cc_number",
    "cc_num",
    "credit_card_number",
    "primary_account_number",
    "acct_num",
)

# Expiry dates: masked (digits become *), only date-shaped values, by `redact.expiry`.
EXPIRY_NAMES: tuple[str, ...] = (
    "exp",
    "expiry",
    "expiration",
    "expdate",
    "exp_date",
    "exp_month",
    "exp_year",
    "expiry_date",
    "valid_thru",
    "valid_through",
)

# ISO 8583 fields by number: 2 the PAN, 35 and 45 tracks 2 and 1, 52 the PIN block.
ISO_PAN_FIELDS = (2,)
ISO_SAD_FIELDS = (35, 45, 52)
ISO_LABEL_PREFIXES = ("de", "f", "fld", "field", "bit", "p", "iso")


def iso_label_names() -> list[str]:
    """The ISO 8583 field labels as key names (`DE2`, `DE002`, `field_52`...), for the C
    pre-scan's name rule: a line naming one is walked."""
    out = []
    for prefix in ISO_LABEL_PREFIXES:
        for field in (*ISO_PAN_FIELDS, *ISO_SAD_FIELDS):
            for width in {len(str(field)), 3}:
                out.append(f"{prefix}{field:0{width}d}")
                out.append(f"{prefix}_{field:0{width}d}")
    return sorted(set(out))


_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SEP = "[ _.\\-\\[\\]]{0,2}"


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


# ISO 8583 field keys: DE2 / F2 / field_002 / "2" (jPOS-style dumps as JSON). Field 2's
# value may carry the LLVAR length prefix glued to the PAN (`164111...`).
ISO_FIELD_KEY = re.compile(
    rf"(?:{'|'.join(ISO_LABEL_PREFIXES)})?[ _\-.#\[]{{0,2}}0{{0,2}}([0-9]{{1,3}})\]?", re.IGNORECASE
)
# Keys and nearby words that say "card", which admit 12-digit Maestro numbers.
# `card` and `account` anywhere (`cardNumber`, `debitcard`); the short ones as whole words.
CARD_WORDS: tuple[str, ...] = ("card", "account")
CARD_WORDS_WHOLE: tuple[str, ...] = ("pan", "pans", "cc", "acct", "maestro")
CARD_WORD = re.compile(
    "|".join([*CARD_WORDS, rf"(?<![a-z])(?:{'|'.join(CARD_WORDS_WHOLE)})(?![a-z])"]),
    re.IGNORECASE | re.ASCII,
)


class KeyKind:
    NONE = 0
    SAD = 1
    EXPIRY = 2
    PAN = 3  # says it holds a card number: 12-19 digits masked whatever the checksum
    CARDISH = 4


def qualified(rest: str) -> bool:
    """Whether the words after a name make the key a fact about it (`_check`, `Result`)."""
    return any(w in QUALIFIERS for w in words(rest))


class KeyClassifier:
    """What a record key (or a label in text) says about its value; cached, keys repeat.

    The one place that decides it: the walk asks it of keys, the text pass of labels.
    """

    CACHE_LIMIT = 4096

    def __init__(
        self,
        sad_names: Iterable[str],
        expiry_names: Iterable[str],
        pan_names: Iterable[str] = PAN_NAMES,
    ) -> None:
        self._sad = re.compile(names_pattern(sad_names))
        self._expiry = re.compile(names_pattern(expiry_names))
        self._pan = re.compile(names_pattern(pan_names))
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
        if self._headed(self._sad, key):
            return KeyKind.SAD
        iso = ISO_FIELD_KEY.fullmatch(key)
        if iso is not None:
            field = int(iso.group(1))
            if field in ISO_SAD_FIELDS:
                return KeyKind.SAD
            if field in ISO_PAN_FIELDS:
                return KeyKind.PAN
        if self._headed(self._pan, key):
            return KeyKind.PAN
        if self._headed(self._expiry, key):
            return KeyKind.EXPIRY
        if CARD_WORD.search(key):
            return KeyKind.CARDISH
        return KeyKind.NONE

    @staticmethod
    def _headed(names: re.Pattern[str], key: str) -> bool:
        """A name of `names` in `key` with no qualifier after it."""
        return any(not qualified(key[m.end() :]) for m in names.finditer(key))
