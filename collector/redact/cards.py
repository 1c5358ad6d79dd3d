"""What a card number looks like: the brand table and the Luhn check, in one place.

A digit string is a PAN when it passes Luhn, starts with a prefix some brand issues and
has a length that brand issues. Everything that decides "is this a card" calls `is_pan`
(the detector, the tests' oracle, the benchmark's generator), so widening the table
widens every one of them at once.
"""

from __future__ import annotations

from typing import NamedTuple


class Brand(NamedTuple):
    name: str
    # Inclusive prefix ranges as digit strings of equal length ("2221", "2720").
    prefixes: tuple[tuple[str, str], ...]
    lengths: tuple[int, ...]


def _r(lo: str, hi: str | None = None) -> tuple[str, str]:
    return (lo, hi if hi is not None else lo)


# Order matters only for the name `brand_of` reports; detection takes any match.
BRANDS: tuple[Brand, ...] = (
    Brand("visa", (_r("4"),), (13, 16, 19)),
    Brand("mastercard", (_r("51", "55"), _r("2221", "2720")), (16,)),
    Brand("amex", (_r("34"), _r("37")), (15,)),
    Brand(
        "discover",
        (_r("6011"), _r("644", "649"), _r("65"), _r("622126", "622925")),
        (16, 17, 18, 19),
    ),
    Brand("jcb", (_r("3528", "3589"),), (16, 17, 18, 19)),
    Brand("diners", (_r("300", "305"), _r("3095"), _r("36"), _r("38", "39")), tuple(range(14, 20))),
    Brand("unionpay", (_r("62"), _r("81")), (16, 17, 18, 19)),
    Brand("mir", (_r("2200", "2204"),), (16, 17, 18, 19)),
    Brand("rupay", (_r("60"), _r("65"), _r("82"), _r("508"), _r("353"), _r("356")), (16,)),
    # Maestro is issued on many 5x/6x ranges, 12 to 19 digits; 12-digit numbers only
    # count as cards next to a card keyword or under a card-ish key (see `MIN_LENGTH`).
    Brand("maestro", (_r("50"), _r("56", "69")), tuple(range(12, 20))),
    Brand("troy", (_r("979200", "979289"),), (16,)),
)

# Digit runs shorter than this are never cards; 12 only with card context.
MIN_LENGTH = 12
MIN_LENGTH_NO_CONTEXT = 13
MAX_LENGTH = 19

# How the digits of one card may be written apart: groups of any sizes joined by up to
# MAX_GAP of these characters (after normalize.py has turned escapes, URL encoding and
# Unicode spaces into them). One table for the careful pass (detect.py) and the C pre-scan.
SEPARATORS = " \t-.+_"
MAX_GAP = 3


# Every digit a card number can start with; the pre-scan only looks at runs starting so.
FIRST_DIGITS = "".join(
    sorted(
        {str(d) for b in BRANDS for lo, hi in b.prefixes for d in range(int(lo[0]), int(hi[0]) + 1)}
    )
)


# Prefix string -> lengths its brands issue, expanded from the table once (a few thousand
# entries) so that a lookup is a handful of dict probes instead of a scan of the table.
_LENGTHS_BY_PREFIX: dict[str, frozenset[int]] = {}
_NAME_BY_PREFIX: dict[str, str] = {}
for _brand in BRANDS:
    for _lo, _hi in _brand.prefixes:
        for _p in range(int(_lo), int(_hi) + 1):
            _key = str(_p).zfill(len(_lo))
            _LENGTHS_BY_PREFIX[_key] = _LENGTHS_BY_PREFIX.get(_key, frozenset()) | frozenset(
                _brand.lengths
            )
            _NAME_BY_PREFIX.setdefault(_key, _brand.name)
_PREFIX_LENGTHS = tuple(sorted({len(k) for k in _LENGTHS_BY_PREFIX}))
_SINGLE = {str(d): d for d in range(10)}
_DOUBLED = {str(d): (2 * d - 9 if d > 4 else 2 * d) for d in range(10)}


def luhn_ok(digits: str) -> bool:
    """The mod-10 check every issuer's PAN satisfies."""
    total = sum(map(_SINGLE.__getitem__, digits[-1::-2])) + sum(
        map(_DOUBLED.__getitem__, digits[-2::-2])
    )
    return total % 10 == 0


def brand_of(digits: str) -> str | None:
    """The first brand whose prefix and length fit `digits` (Luhn not checked)."""
    n = len(digits)
    for plen in _PREFIX_LENGTHS:
        lengths = _LENGTHS_BY_PREFIX.get(digits[:plen])
        if lengths is not None and n in lengths:
            for brand in BRANDS:
                if n in brand.lengths and any(
                    lo <= digits[: len(lo)] <= hi for lo, hi in brand.prefixes
                ):
                    return brand.name
    return None


def _brand_fits(digits: str) -> bool:
    n = len(digits)
    for plen in _PREFIX_LENGTHS:
        lengths = _LENGTHS_BY_PREFIX.get(digits[:plen])
        if lengths is not None and n in lengths:
            return True
    return False


def lengths_for(digits: str) -> frozenset[int]:
    """Every PAN length some brand issues for a number opening with `digits` (its first
    six or more digits); empty when no brand starts so. Lets a detector test Luhn only on
    windows of a length that could be a card."""
    out: frozenset[int] = frozenset()
    for plen in _PREFIX_LENGTHS:
        lengths = _LENGTHS_BY_PREFIX.get(digits[:plen])
        if lengths is not None:
            out = out | lengths
    return out


def is_pan(digits: str, card_context: bool = False) -> bool:
    """True when `digits` (ASCII digits only) is a plausible card number.

    `card_context` admits 12-digit Maestro numbers, which are too short to tell from
    other ids without a keyword or key name that says "card".
    """
    n = len(digits)
    if n > MAX_LENGTH or n < (MIN_LENGTH if card_context else MIN_LENGTH_NO_CONTEXT):
        return False
    return _brand_fits(digits) and luhn_ok(digits)


def luhn_complete(body: str) -> str:
    """`body` plus the check digit that makes it Luhn-valid (for generators and tests)."""
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")
