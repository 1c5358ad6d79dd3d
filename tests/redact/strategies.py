"""Hypothesis strategies: cards of every brand and length, every written form, safe filler.

Filler is built from a word list with no digits and no sensitive names, so that anything
the redactor changes in it is a false positive and anything it leaves in a planted value
is a leak.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from collector.redact.cards import BRANDS, MIN_LENGTH_NO_CONTEXT, luhn_complete
from collector.redact.keys import SAD_NAMES, words

# (brand, lo, hi, length) for every prefix range and every length the table issues.
CARD_SHAPES: list[tuple[str, str, str, int]] = [
    (b.name, lo, hi, n)
    for b in BRANDS
    for lo, hi in b.prefixes
    for n in b.lengths
    if n >= MIN_LENGTH_NO_CONTEXT
]

SAFE_WORDS = (
    "order",
    "payment",
    "approved",
    "declined",
    "gateway",
    "retry",
    "user",
    "merchant",
    "latency",
    "settled",
    "queue",
    "batch",
    "refund",
    "capture",
    "risk",
    "score",
    "the",
    "for",
    "with",
    "from",
    "checkout",
    "session",
    "currency",
    "EUR",
    "USD",
    "status",
    "ok",
)
SAFE_KEYS = (
    "msg",
    "message",
    "order_id",
    "merchant",
    "status",
    "level",
    "logger",
    "service",
    "trace_id",
    "detail",
    "items",
    "meta",
    "reason",
    "amount",
    "currency",
    "tags",
    "ctx",
)


def pan_from_seed(seed: tuple[int, int]) -> str:
    """A Luhn-valid PAN of one shape, rebuilt from numbers so that hypothesis prints the
    seed of a failing example, never a card number."""
    shape, noise = seed
    _, lo, hi, length = CARD_SHAPES[shape % len(CARD_SHAPES)]
    rng = random.Random(noise)
    prefix = str(rng.randint(int(lo), int(hi))).zfill(len(lo))
    body = "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return luhn_complete(prefix + body)


pan_seeds = st.tuples(st.integers(0, len(CARD_SHAPES) - 1), st.integers(0, 2**32))


def groups_of(pan: str) -> list[str]:
    """The printed grouping: 4-6-5 (15), 4-6-4 (14), else fours and the rest."""
    if len(pan) == 15:
        return [pan[:4], pan[4:10], pan[10:]]
    if len(pan) == 14:
        return [pan[:4], pan[4:10], pan[10:]]
    return [pan[i : i + 4] for i in range(0, len(pan), 4)]


def _odd_pad(pan: str) -> str:
    return pan + "F" if len(pan) % 2 else pan


# Every written form: name -> function of the PAN. Each yields a string value.
FORMS: dict[str, Any] = {
    "plain": lambda p: p,
    "space": lambda p: " ".join(groups_of(p)),
    "dash": lambda p: "-".join(groups_of(p)),
    "dot": lambda p: ".".join(groups_of(p)),
    "pct20": lambda p: "%20".join(groups_of(p)),
    "plus": lambda p: "+".join(groups_of(p)),
    "url_digits": lambda p: "".join(f"%3{d}" for d in p),
    "escaped_text": lambda p: "".join(f"\\u003{d}" for d in p),
    "glued": lambda p: f"card:{p};",
    "glued_letters": lambda p: f"PAN{p}x",
    "query": lambda p: f"/v1/pay?pan={'+'.join(groups_of(p))}&currency=EUR",
    "form": lambda p: f"amount=100&card_number={p}&currency=EUR",
    "url_encoded_json": lambda p: f"/cb?data=%7B%22pan%22%3A%22{p}%22%7D",
    "url_encoded_form": lambda p: f"/cb?body=amount%3D100%26pan%3D{p}%26x%3D1",
    "escaped_colon": lambda p: f"pan\\u003a{p}",
    "xml": lambda p: f"<payment><pan>{p}</pan></payment>",
    "json_in_string": lambda p: f'{{"pan":"{p}","status":"declined"}}',
    "json_in_string_escaped": lambda p: f'{{\\"pan\\":\\"{p}\\"}}',
    "emv": lambda p: (
        f"9F02060000000010005A{(len(p) + 1) // 2:02X}{_odd_pad(p)}5F24032512319F3602001C"
    ),
    "iso_message": lambda p: f"02007234054128C28805{len(p):02d}{p}000000000000010000",
    "iso_field": lambda p: f"DE2={len(p):02d}{p} DE3=000000",
    "track1": lambda p: f"%B{p}^DOE/JOHN^25121010000000000000?",
    "track2": lambda p: f";{p}=25121010000000000?",
    "emv_track2": lambda p: f"57{(len(p) + 18) // 2:02X}{p}D25121010000000000F",
}

filler = st.lists(st.sampled_from(SAFE_WORDS), min_size=0, max_size=6).map(" ".join)


def _leaf() -> st.SearchStrategy[Any]:
    return st.one_of(
        filler,
        st.integers(-(10**6), 10**6),
        st.integers(10**25, 10**30),  # big ints stay exact
        st.integers(10**12, 2 * 10**12),  # epoch-ms sized, leading 1
        st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e6, max_value=1e6),
        st.booleans(),
        st.none(),
    )


json_values = st.recursive(
    _leaf(),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(SAFE_KEYS), children, max_size=4),
    ),
    max_leaves=12,
)
records = st.dictionaries(st.sampled_from(SAFE_KEYS), json_values, min_size=1, max_size=6)


def sad_key_variants(name: str) -> list[str]:
    """`security_code` written the ways services write keys."""
    ws = words(name)
    return [
        "_".join(ws),
        "-".join(ws),
        "".join(ws),
        "".join(w.upper() for w in ws),
        "card" + "".join(w.capitalize() for w in ws),
        "card_" + "_".join(ws),
        "payment.card." + "_".join(ws),
    ]


sad_keys = st.sampled_from(SAD_NAMES).flatmap(lambda n: st.sampled_from(sad_key_variants(n)))
