"""Log lines of a payment service that hold no card data, but many card-like numbers.

Each category writes what payment logs are full of, from the format's own rule: UUIDs
(RFC 9562), W3C trace context, Datadog's decimal 64-bit ids, snowflakes, epochs in four
units, IBANs with real mod-97 check digits (ISO 13616), IMEIs (Luhn, TAC prefixes), ICCIDs
(ITU-T E.118, Luhn, `89`), ISO 8583 RRN / STAN, acquirer reference numbers, PSP references,
amounts, phone numbers, masked PANs, BINs, last four, card-check results, expiry without a
PAN. `clean_lines(seed, n)` returns JSON lines and their category.

Some of these are, by chance, indistinguishable from a card (a 19-digit Datadog id that
starts with 4 and passes Luhn *is* a valid Visa number). The tests ask the reference which
lines hold a card window and count those apart, instead of calling a redactor wrong for
masking them.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Callable
from typing import Any

from tests.redact.hiding import make_pan
from tests.redact.reference import BRANDS, luhn_ok


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _luhn_complete(body: str) -> str:
    return next(body + c for c in string.digits if luhn_ok(body + c))


def _iban(rng: random.Random, country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - number % 97
    return f"{country}{check:02d}{bban}"


def _some_iban(rng: random.Random) -> str:
    country, bban = rng.choice(
        (
            ("DE", _digits(rng, 18)),
            ("FR", _digits(rng, 10) + "".join(rng.choices(string.ascii_uppercase, k=1))
             + _digits(rng, 12)),
            ("GB", "".join(rng.choices(string.ascii_uppercase, k=4)) + _digits(rng, 14)),
            ("NL", "".join(rng.choices(string.ascii_uppercase, k=4)) + _digits(rng, 10)),
            ("ES", _digits(rng, 20)),
            ("IT", rng.choice(string.ascii_uppercase) + _digits(rng, 22)),
            ("BE", _digits(rng, 12)),
            ("PL", _digits(rng, 24)),
        )
    )  # fmt: skip
    return _iban(rng, country, bban)


def _grouped(text: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


def _ts(rng: random.Random) -> str:
    return (
        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}Z"
    )


def _epoch(rng: random.Random, unit: str) -> int:
    s = rng.randint(1_700_000_000, 1_900_000_000)
    return {
        "s": s,
        "ms": s * 1000 + rng.randint(0, 999),
        "us": s * 1_000_000 + rng.randint(0, 999_999),
        "ns": s * 1_000_000_000 + rng.randint(0, 999_999_999),
    }[unit]


def _snowflake(rng: random.Random) -> int:
    ms = _epoch(rng, "ms") - 1_288_834_974_657
    return (ms << 22) | rng.getrandbits(22)


def _masked_pan(rng: random.Random) -> str:
    first, last = rng.choice("4536") + _digits(rng, 5), _digits(rng, 4)
    return rng.choice(
        (
            f"{first}******{last}",
            f"************{last}",
            f"{first[:4]} {first[4:]}** **** {last}",
            f"{first[:4]}-XXXX-XXXX-{last}",
            f"xxxx xxxx xxxx {last}",
            f"{first}XXXXXX{last}",
            f"•••• {last}",
        )
    )


# --- categories --------------------------------------------------------------------------------


def uuid_ids(rng: random.Random) -> dict[str, Any]:
    u = uuid.UUID(int=rng.getrandbits(128), version=4)
    return {"request_id": str(u), "msg": f"handled request {u} in {rng.randint(1, 900)}ms"}


def w3c_trace(rng: random.Random) -> dict[str, Any]:
    trace, span = _hex(rng, 32), _hex(rng, 16)
    return {"traceparent": f"00-{trace}-{span}-01", "trace_id": trace, "span_id": span}


def datadog_ids(rng: random.Random) -> dict[str, Any]:
    trace, span = rng.getrandbits(63), rng.getrandbits(63)
    return {
        "dd": {"trace_id": str(trace), "span_id": str(span)},
        "msg": f"dd.trace_id={trace} dd.span_id={span} checkout done",
    }


def datadog_numeric(rng: random.Random) -> dict[str, Any]:
    return {"dd.trace_id": rng.getrandbits(64), "dd.span_id": rng.getrandbits(63)}


def snowflakes(rng: random.Random) -> dict[str, Any]:
    sf = _snowflake(rng)
    return {"id": sf, "id_str": str(sf), "msg": f"message {sf} queued"}


def epochs(rng: random.Random) -> dict[str, Any]:
    unit = rng.choice(("s", "ms", "us", "ns"))
    value = _epoch(rng, unit)
    return {f"ts_{unit}": value, "msg": f"event at {value} ({unit})", "ts": _ts(rng)}


def ibans(rng: random.Random) -> dict[str, Any]:
    iban = _some_iban(rng)
    grouped = _grouped(iban)
    return {"iban": rng.choice((iban, grouped)), "msg": f"SEPA payout to {grouped} accepted"}


def bban(rng: random.Random) -> dict[str, Any]:
    sort = f"{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
    return {"sort_code": sort, "account_number": _digits(rng, 8), "blz": _digits(rng, 8)}


def imei(rng: random.Random) -> dict[str, Any]:
    value = _luhn_complete(rng.choice(("35", "86", "01", "99")) + _digits(rng, 12))
    return {"device": {"imei": value}, "msg": f"device IMEI {value} registered"}


def iccid(rng: random.Random) -> dict[str, Any]:
    value = _luhn_complete("89" + rng.choice(("44", "49", "01", "33")) + _digits(rng, 14))
    return {"sim": {"iccid": value}, "msg": f"eSIM {value} activated"}


def iso_refs(rng: random.Random) -> dict[str, Any]:
    rrn = f"{rng.randint(0, 9)}{rng.randint(1, 365):03d}{rng.randint(0, 23):02d}{_digits(rng, 6)}"
    stan = _digits(rng, 6)
    arn = _luhn_complete(rng.choice("27") + _digits(rng, 21))
    return {"rrn": rrn, "stan": stan, "arn": arn, "msg": f"RRN {rrn} STAN {stan} ARN {arn}"}


def psp_refs(rng: random.Random) -> dict[str, Any]:
    alnum = string.ascii_letters + string.digits
    return {
        "pspReference": "88" + _digits(rng, 14),
        "stripe": {"payment_intent": "pi_3" + "".join(rng.choices(alnum, k=23))},
        "braintree_txn": "".join(rng.choices(string.ascii_lowercase + string.digits, k=8)),
        "order": f"ORD-2026-{_digits(rng, 9)}",
    }


def amounts(rng: random.Random) -> dict[str, Any]:
    minor = rng.randint(1, 10**9)
    return {
        "amount": {"value": minor, "currency": rng.choice(("EUR", "USD", "JPY"))},
        "msg": f"captured {minor / 100:.2f} (minor units {minor})",
    }


def phones(rng: random.Random) -> dict[str, Any]:
    n = _digits(rng, 7)
    phone = rng.choice(
        (
            f"+49151{n}{rng.randint(0, 9)}",
            f"+1 {rng.randint(201, 989)} 555 {n[:4]}",
            f"({rng.randint(201, 989)}) 555-{n[:4]}",
            f"+44 20 {n[:4]} {n[4:]}{rng.randint(0, 9)}",
        )
    )
    return {"customer": {"phone": phone}, "msg": f"SMS OTP sent to {phone}"}


def masked_pans(rng: random.Random) -> dict[str, Any]:
    masked = _masked_pan(rng)
    return {"card": {"masked": masked}, "msg": f"charged card {masked}"}


def bins_last4(rng: random.Random) -> dict[str, Any]:
    return {
        "card": {
            "bin": rng.choice("45") + _digits(rng, 5),
            "iin8": rng.choice("45") + _digits(rng, 7),
            "last4": _digits(rng, 4),
            "brand": rng.choice(("visa", "mastercard", "amex")),
        }
    }


RESULT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("cvc_check", "pass"),
    ("cvcResult", "1 Matches"),
    ("cvcResultRaw", "M"),
    ("cvvResult", "M"),
    ("cvv_result", "M"),
    ("cvv2_response_code", "M"),
    ("cvvVerification", "MATCH"),
    ("securityCodeIndicator", "1"),
    ("pin_verified", True),
    ("pin_required", False),
    ("pinCount", 3),
    ("cvc_status", "unavailable"),
    ("cvv_present", True),
    ("pin_attempts", 1),
    ("cvv_policy", "required"),
    ("cvc_length", 3),
)


def check_results(rng: random.Random) -> dict[str, Any]:
    picked = rng.sample(RESULT_FIELDS, k=4)
    return {"result": dict(picked), "msg": "authorisation checks"}


def expiry_without_pan(rng: random.Random) -> dict[str, Any]:
    return {
        "card": {
            "last4": _digits(rng, 4),
            "exp_month": rng.randint(1, 12),
            "exp_year": rng.randint(2027, 2035),
        },
        "expiry_policy": rng.choice(("30d", "90d", "never")),
        "token_expiry": _ts(rng),
    }


def hashes(rng: random.Random) -> dict[str, Any]:
    return {
        "git_sha": _hex(rng, 40),
        "sha256": _hex(rng, 64),
        "pod": f"payments-{_hex(rng, 9)}-{''.join(rng.choices(string.ascii_lowercase, k=5))}",
        "ptr": f"0x{_hex(rng, 12)}",
    }


def hex_ids_with_digit_runs(rng: random.Random) -> dict[str, Any]:
    """Trace ids whose digits happen to form a card-valid run (about 1 random 32-hex id in
    60 holds a 13+ digit run, a few % of those pass Luhn and a brand), with letters on both
    sides and inside, as hex ids have: the hex-id exemption at work."""
    brand = rng.choice(BRANDS)
    length = rng.choice([n for n in brand.lengths if n >= 13])
    run = make_pan(rng, brand, length)
    left = _hex(rng, rng.randint(2, 8))
    trace = (f"{rng.choice('0123456789')}{left}{rng.choice('abcdef')}{run}"
             f"{rng.choice('abcdef')}")  # fmt: skip
    trace += _hex(rng, max(0, 32 - len(trace) - 1)) + rng.choice("0123456789")
    return {"trace_id": trace, "msg": f"span {trace[:16]} of trace {trace} finished"}


def network(rng: random.Random) -> dict[str, Any]:
    ip = ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return {
        "client_ip": ip,
        "upstream": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}:8443",
        "ipv6": ":".join(_hex(rng, 4) for _ in range(8)),
        "msg": f"{ip} - - [04/Dec/2026:15:40:08 +0000] \"POST /v1/pay HTTP/1.1\" 201 "
        f"{rng.randint(100, 9999)} {rng.randint(1, 999)}.{_digits(rng, 3)}",
    }  # fmt: skip


def stack_trace(rng: random.Random) -> dict[str, Any]:
    lines = "\n".join(
        f"\tat com.shop.pay.{rng.choice(('Gateway', 'Client', 'Retry'))}.call"
        f"({rng.choice(('Gateway', 'Client'))}.java:{rng.randint(10, 2000)})"
        for _ in range(6)
    )
    return {"level": "error", "msg": f"java.net.SocketTimeoutException: Read timed out\n{lines}"}


def gtin(rng: random.Random) -> dict[str, Any]:
    body = rng.choice(("400", "590", "871")) + _digits(rng, 9)
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    check = (10 - (odd + 3 * even) % 10) % 10
    return {"item": {"gtin": f"{body}{check}", "qty": rng.randint(1, 5)}}


def non_payment_luhn(rng: random.Random) -> dict[str, Any]:
    # ISO/IEC 7812 MII 7 (petroleum) and 1 (airlines, not UATP length): not payment PANs
    loyalty = _luhn_complete(rng.choice("17") + _digits(rng, 14))
    return {"loyalty_id": loyalty, "msg": f"points credited to member {loyalty}"}


def sepa_ids(rng: random.Random) -> dict[str, Any]:
    return {
        "creditor_id": f"DE{rng.randint(10, 99)}ZZZ{_digits(rng, 11)}",
        "mandate": f"MNDT-{_digits(rng, 6)}-{_digits(rng, 4)}",
        "end_to_end_id": f"E2E{_digits(rng, 16)}X",
    }


def durations_versions(rng: random.Random) -> dict[str, Any]:
    return {
        "msg": f"processed {rng.randint(1, 99999)} records in {rng.randint(1, 9999)} ms "
        f"(v{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 99)}, "
        f"build {_digits(rng, 8)}.{_digits(rng, 4)})",
        "date": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2026",
        "took": f"{rng.random() * 1000:.6f}",
    }


CATEGORIES: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    f.__name__: f
    for f in (
        uuid_ids, w3c_trace, datadog_ids, datadog_numeric, snowflakes, epochs, ibans, bban,
        imei, iccid, iso_refs, psp_refs, amounts, phones, masked_pans, bins_last4,
        check_results, expiry_without_pan, hashes, hex_ids_with_digit_runs, network,
        stack_trace, gtin, non_payment_luhn, sepa_ids, durations_versions,
    )
}  # fmt: skip


def clean_lines(seed: int, n: int) -> list[tuple[str, bytes]]:
    """`n` clean JSON lines (category, line), round-robin over the categories."""
    rng = random.Random(f"clean|{seed}")
    names = list(CATEGORIES)
    out = []
    for i in range(n):
        name = names[i % len(names)]
        record = {"ts": _ts(rng), "level": "info", "logger": "payments", **CATEGORIES[name](rng)}
        out.append((name, json.dumps(record, ensure_ascii=False).encode()))
    return out
