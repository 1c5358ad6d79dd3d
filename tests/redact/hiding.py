"""Ways card data hides in logs, generated from the rules (not from the implementation).

A *style* writes a secret the way some real system or some PCI rule says it can be written
(an irregular grouping, a Unicode space, an ISO 8583 length prefix, a Stripe form field, a
track 2 whose PAN was masked upstream...). A *position* puts the written form somewhere in a
JSON log record (the whole value, the middle of a message, a key, an array element...).
`cases()` crosses every style with every brand, every length the brand issues and every
position the style allows, and each `Case` carries what was planted: the PAN digits, the SAD
values, which embedded document must still parse, which result fields must stay. The
oracles compare those with what the pipeline shipped, and never print a value.

Every PAN is random (brand prefix + random digits + Luhn check digit), never a well-known
test number, so a digit string found in the output is the planted one, not a coincidence.
"""

from __future__ import annotations

import json
import random
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.redact.reference import BRANDS, MAX_LEN, Brand, luhn_ok

# --- secrets ---------------------------------------------------------------------------------


def make_pan(rng: random.Random, brand: Brand, length: int) -> str:
    """A random Luhn-valid number of `brand` and `length`."""
    lo, hi = rng.choice(brand.ranges)
    prefix = str(rng.randint(int(lo), int(hi))).zfill(len(lo))
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def make_non_luhn(rng: random.Random, length: int) -> str:
    """Digits that fail Luhn (a card-number field's value whatever its checksum)."""
    while True:
        rest = "".join(rng.choice("0123456789") for _ in range(length - 1))
        digits = str(rng.randint(1, 9)) + rest
        if not luhn_ok(digits):
            return digits


@dataclass(frozen=True)
class Secrets:
    pan: str
    cvv: str  # 3 digits, 4 for Amex CID
    pin_block: str  # 16 hex digits (ISO 9564 format 0 after encryption: any hex)
    exp_mm: str
    exp_yy: str
    service: str  # 3 digits
    disc: str  # track discretionary data, digits
    name: str

    @property
    def track_tail(self) -> str:
        """What follows the PAN's separator in a track: YYMM + service code + discretionary."""
        return self.exp_yy + self.exp_mm + self.service + self.disc

    @property
    def sad_tail(self) -> str:
        """The part of the track tail that is SAD on its own whatever the expiry rule."""
        return self.service + self.disc


_NAMES = ("DOE/JANE", "SMITH/JOHN MR", "MUELLER/ANNA", "GARCIA LOPEZ/MARIA", "NGUYEN/AN")


def make_secrets(rng: random.Random, pan: str, amex: bool = False) -> Secrets:
    while True:
        cvv = "".join(rng.choice("0123456789") for _ in range(4 if amex else 3))
        if cvv not in pan and not cvv.startswith(("19", "20")):
            break
    while True:
        disc = "".join(rng.choice("0123456789") for _ in range(rng.randint(9, 13)))
        if disc[:6] not in pan:
            break
    pin_block = "".join(rng.choice("0123456789ABCDEF") for _ in range(16))
    while pin_block.isdigit() or pin_block.isalpha():
        pin_block = "".join(rng.choice("0123456789ABCDEF") for _ in range(16))
    return Secrets(
        pan=pan,
        cvv=cvv,
        pin_block=pin_block,
        exp_mm=f"{rng.randint(1, 12):02d}",
        exp_yy=f"{rng.randint(27, 35):02d}",
        service=rng.choice(("101", "201", "120", "221", "206")),
        disc=disc,
        name=rng.choice(_NAMES),
    )


# --- what a style plants ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sad:
    """A planted SAD value: `kind` cvv | pin_digits (whole digit tokens), track (digits),
    pin | expiry (text)."""

    kind: str
    value: str


@dataclass
class Plant:
    """What a style writes: a text fragment (placed by a position) or record fields."""

    text: str | None = None
    fields: dict[str, Any] | None = None
    number: int | None = None  # the JSON-number form of a bare PAN
    pans: tuple[str, ...] = ()
    sad: tuple[Sad, ...] = ()
    embedded: str | None = None  # "json" | "form" | "xml": the placed text must still parse
    keep: tuple[tuple[str, str], ...] = ()  # (label, value) that must be shipped unchanged


@dataclass(frozen=True)
class Style:
    name: str
    kind: str  # pan | context | sad | track | pin | expiry | gateway
    rule: str  # where the style comes from
    render: Callable[[random.Random, Secrets], Plant]
    positions: tuple[str, ...]
    lengths: Callable[[Brand], tuple[int, ...]] | None = None


TEXT_POSITIONS = (
    "whole",
    "start",
    "middle",
    "end",
    "quoted",
    "punct",
    "newline",
    "key",
    "array",
    "nested",
)
DOC_POSITIONS = ("whole", "array", "nested")  # an embedded document is a whole string value
FIELD_POSITIONS = ("top", "nested", "array", "body_json", "msg_json")


def _default_lengths(brand: Brand) -> tuple[int, ...]:
    return tuple(n for n in brand.lengths if 13 <= n <= MAX_LEN)


# --- writing helpers -------------------------------------------------------------------------

# A private-use character U+F0000 + cp in a fragment means: write cp as a `\uXXXX` JSON
# escape in the raw line (so the pre-scan sees the escape, the record sees the character).
_ESC_BASE = 0xF0000


def json_escaped(text: str) -> str:
    return "".join(chr(_ESC_BASE + ord(c)) for c in text)


def plain(text: str) -> str:
    """The text a record holds once its line is decoded (`json_escaped` undone)."""
    return re.sub("[\U000f0000-\U000fffff]", lambda m: chr(ord(m.group()) - _ESC_BASE), text)


def _line_escapes(line: str) -> str:
    return re.sub(
        "[\U000f0000-\U000fffff]",
        lambda m: f"\\u{ord(m.group()) - _ESC_BASE:04x}",
        line,
    )


_RAW_MARK = "\U000effff"


def encode_line(record: dict[str, Any]) -> bytes:
    """The JSON line of a record, with the escapes `json_escaped` asked for and the raw
    numbers `_Raw` holds."""

    def default(value: Any) -> Any:
        raise TypeError(type(value))

    def mark(value: Any) -> Any:
        if isinstance(value, _Raw):
            return f"{_RAW_MARK}{value}{_RAW_MARK}"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(record), ensure_ascii=False, default=default)
    text = re.sub(f'"{_RAW_MARK}([^"]*){_RAW_MARK}"', r"\1", text)
    return _line_escapes(text).encode()


def split(digits: str, sizes: list[int]) -> list[str]:
    out, i = [], 0
    for size in sizes:
        if i >= len(digits):
            break
        out.append(digits[i : i + size])
        i += size
    if i < len(digits):
        out.append(digits[i:])
    return out


def irregular(rng: random.Random, digits: str) -> list[str]:
    """Random group sizes 1-7, at least three groups, not the canonical 4-4-4-4."""
    while True:
        sizes = [rng.randint(1, 7) for _ in range(len(digits))]
        groups = split(digits, sizes)
        if len(groups) >= 3 and any(len(g) != 4 for g in groups[:-1]):
            return groups


def _pan(text: str, s: Secrets, **kw: Any) -> Plant:
    return Plant(text=text, pans=(s.pan,), **kw)


UNI_SPACES = ("\u2002", "\u2003", "\u2007", "\u2008", "\u200a", "\u205f", "\u3000", "\u1680")
UNI_DASHES = ("\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d")
UNI_DIGIT_BASES = (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1D7CE)  # Arabic-Indic ... math


def _digits_in(base: int, digits: str) -> str:
    return "".join(chr(base + int(d)) for d in digits)


def _hex_bytes(text: str) -> str:
    return "".join(f"{ord(c):02X}" for c in text)


# --- PAN styles (issue 13 items 1-5) -----------------------------------------------------------


def _plain(rng: random.Random, s: Secrets) -> Plant:
    return _pan(s.pan, s, number=int(s.pan))


def _grouped4(sep: str) -> Callable[[random.Random, Secrets], Plant]:
    return lambda rng, s: _pan(sep.join(split(s.pan, [4] * 5)), s)


def _irregular(sep: str) -> Callable[[random.Random, Secrets], Plant]:
    return lambda rng, s: _pan(sep.join(irregular(rng, s.pan)), s)


def _sizes(sizes: list[int], sep: str = " ") -> Callable[[random.Random, Secrets], Plant]:
    return lambda rng, s: _pan(sep.join(split(s.pan, sizes)), s)


def _mixed(rng: random.Random, s: Secrets) -> Plant:
    groups = irregular(rng, s.pan)
    text = groups[0]
    for g in groups[1:]:
        text += rng.choice(" -.") + g
    return _pan(text, s)


def _logfmt(rng: random.Random, s: Secrets) -> Plant:
    key = rng.choice(("pan", "card", "cc", "account", "number", "src"))
    return _pan(f"{key}={'-'.join(irregular(rng, s.pan))} status=approved", s)


def _url(sep: str) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        groups = rng.choice((irregular(rng, s.pan), split(s.pan, [4, 3, 3, 3, 3, 3])))
        key = rng.choice(("cc", "card", "pan", "number", "acct"))
        glue = sep.lower() if rng.random() < 0.3 else sep  # %2d as well as %2D
        return _pan(f"GET /v1/pay?{key}={glue.join(groups)}&amount=1299&cur=EUR", s)

    return render


def _pct_digits(rng: random.Random, s: Secrets) -> Plant:
    enc = "".join(f"%{ord(c):02X}" if rng.random() < 0.7 else c for c in s.pan)
    return _pan(f"/checkout?card_number={enc}&step=2", s)


def _double_encoded(rng: random.Random, s: Secrets) -> Plant:
    groups = irregular(rng, s.pan)
    inner = urllib.parse.quote(" ".join(groups), safe="")
    return _pan(f"redirect=%2Fpay%3Fcc%3D{urllib.parse.quote(inner, safe='')}", s)


def _json_escape_digits(rng: random.Random, s: Secrets) -> Plant:
    return _pan("".join(json_escaped(c) if rng.random() < 0.6 else c for c in s.pan), s)


def _text_escape_digits(rng: random.Random, s: Secrets) -> Plant:
    # a JSON document inside a string: the record's string holds `\u0034`
    text = "".join(f"\\u{ord(c):04x}" if rng.random() < 0.6 else c for c in s.pan)
    return _pan(text, s)


def _uni_sep(chars: tuple[str, ...], grouping: str) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        groups = irregular(rng, s.pan) if grouping == "irregular" else split(s.pan, [4] * 5)
        return _pan(rng.choice(chars).join(groups), s)

    return render


def _uni_sep_escaped(char: str, in_line: bool) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        groups = rng.choice((split(s.pan, [4] * 5), irregular(rng, s.pan)))
        sep = json_escaped(char) if in_line else f"\\u{ord(char):04x}"
        return _pan(sep.join(groups), s)

    return render


def _fullwidth(in_line: bool) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        wide = _digits_in(0xFF10, s.pan)
        if in_line:
            wide = json_escaped(wide)
        groups = split(wide, [4] * 5) if rng.random() < 0.5 else [wide]
        return _pan(rng.choice((" ", "\u3000", "")).join(groups), s)

    return render


def _other_digits(rng: random.Random, s: Secrets) -> Plant:
    return _pan(_digits_in(rng.choice(UNI_DIGIT_BASES), s.pan), s)


def _html_entities(rng: random.Random, s: Secrets) -> Plant:
    out = []
    for c in s.pan:
        r = rng.random()
        out.append(f"&#{ord(c)};" if r < 0.4 else f"&#x{ord(c):x};" if r < 0.7 else c)
    return _pan("".join(out), s)


def _iso_llvar(rng: random.Random, s: Secrets) -> Plant:
    n = len(s.pan)
    label = rng.choice(
        (
            f"DE002 LLVAR={n:02d}",
            f"DE002={n:02d}",
            f"DE2={n:02d}",
            f"F2: {n:02d}",
            f"field_002={n:02d}",
            f"[002] LLVAR {n:02d}",
            f"BIT002 {n:02d}",
            f"P-2={n:02d}",
        )
    )
    return _pan(f"{label}{s.pan} DE003=000000 DE004=000000001299", s)


def _iso_raw(rng: random.Random, s: Secrets) -> Plant:
    # MTI 0200, primary bitmap with bits 2, 3, 4, 7, 11, 12 set (no secondary), field 2 LLVAR
    bitmap = (1 << 62) | (1 << 61) | (1 << 60) | (1 << 57) | (1 << 53) | (1 << 52)
    stan = f"{rng.randint(0, 999999):06d}"
    msg = f"0200{bitmap:016X}{len(s.pan):02d}{s.pan}000000000000001299{stan}"
    return _pan(f"iso8583 out: {msg}", s)


def _emv_5a(spaced: bool) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        value = s.pan + ("F" if len(s.pan) % 2 else "")
        tlv = f"5A{len(value) // 2:02X}{value}"
        pre = "9F02060000000012999F360200" + f"{rng.randint(0, 255):02X}"
        post = f"5F2403{s.exp_yy}{s.exp_mm}31"
        if spaced:
            whole = pre + tlv + post
            return _pan(" ".join(whole[i : i + 2] for i in range(0, len(whole), 2)), s)
        return _pan(f"ICC={pre}{tlv}{post}", s)

    return render


def _glued_ident(rng: random.Random, s: Secrets) -> Plant:
    form = rng.choice(("id=tok_{}abc", "card{}x", "ref:{};", "PAN{}_ok", "src_{}z", "cc#{}!"))
    return _pan(form.format(s.pan), s)


def _hex_one_side(rng: random.Random, s: Secrets) -> Plant:
    form = rng.choice(("{}abc", "{}added", "cafe{}", "deadbeef{}", "{}ff", "ab{}"))
    return _pan(form.format(s.pan), s)


def _tab_sep(rng: random.Random, s: Secrets) -> Plant:
    return _pan("\t".join(irregular(rng, s.pan)), s)


# --- short PANs and card fields whatever their checksum (item 5) ------------------------------


def _short_lengths(brand: Brand) -> tuple[int, ...]:
    return tuple(n for n in brand.lengths if n in (12, 13))


def _short_array(as_number: bool) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        key = rng.choice(("pans", "card_numbers", "cardNumbers", "pan_list"))
        value: Any = int(s.pan) if as_number else s.pan
        return Plant(fields={key: [value]}, pans=(s.pan,))

    return render


def _short_key(rng: random.Random, s: Secrets) -> Plant:
    key = rng.choice(("pan", "card_number", "cardNumber", "primary_account_number", "ccnum"))
    return Plant(fields={key: rng.choice((s.pan, int(s.pan)))}, pans=(s.pan,))


def _short_card_word(rng: random.Random, s: Secrets) -> Plant:
    word = rng.choice(("card", "Maestro card", "PAN", "card number:", "debit card no."))
    return _pan(f"{word} {s.pan}", s)


def _card_field_non_luhn(rng: random.Random, s: Secrets) -> Plant:
    value = make_non_luhn(rng, len(s.pan))
    key = rng.choice(("card_number", "cardNumber", "pan", "DE2", "de002", "field_2_pan"))
    return Plant(fields={key: value}, pans=(value,))


# --- SAD by label (item 6) ---------------------------------------------------------------------

CVV_JSON_KEYS = (
    "cvv",
    "cvv2",
    "cvc",
    "cvc2",
    "card_cvc",
    "cardCvv",
    "security_code",
    "securityCode",
    "verification_value",
    "DS_MERCHANT_CVV2",
    "fsv",
    "cvd",
    "cvn",
    "csc",
    "CardSecVal",
    "card[cvc]",
    "cvNumber",
    "cardCode",
    "CVV2Value",
    "card_verification_code",
)
CVV_XML_TAGS = ("cardCode", "cvNumber", "CardSecurityCode", "CVNum", "CardSecVal", "cvv", "CVV2")
CVV_TEXT_LABELS = ("CVV", "CVV2", "CVC", "CVC2", "Security code", "CID", "CVD", "cvn")


def _cvv(s: Secrets) -> Sad:
    return Sad("cvv", s.cvv)


def _stripe_form(encoded: bool) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        pairs = [
            ("card[number]", s.pan),
            ("card[exp_month]", s.exp_mm),
            ("card[exp_year]", "20" + s.exp_yy),
            ("card[cvc]", s.cvv),
            ("type", "card"),
        ]
        rng.shuffle(pairs)
        body = urllib.parse.urlencode(pairs, safe="" if encoded else "[]")
        return Plant(text=body, pans=(s.pan,), sad=(_cvv(s),), embedded="form")

    return render


def _xml_cvv(rng: random.Random, s: Secrets) -> Plant:
    tag = rng.choice(CVV_XML_TAGS)
    return Plant(
        text=f"<card><accountNumber>{s.pan}</accountNumber><{tag}>{s.cvv}</{tag}></card>",
        pans=(s.pan,),
        sad=(_cvv(s),),
        embedded="xml",
    )


def _json_key_cvv(rng: random.Random, s: Secrets) -> Plant:
    key = rng.choice(CVV_JSON_KEYS)
    value = s.cvv if s.cvv.startswith("0") else rng.choice((s.cvv, int(s.cvv)))
    return Plant(fields={key: value}, sad=(_cvv(s),))


def _security_code_object(rng: random.Random, s: Secrets) -> Plant:
    key = rng.choice(("securityCode", "cvc", "card_cvv"))
    return Plant(fields={key: {"value": s.cvv, "encrypted": False}}, sad=(_cvv(s),))


def _logfmt_cvv(rng: random.Random, s: Secrets) -> Plant:
    key = rng.choice(("cvv2", "cvc", "card_cvc", "security_code", "cvv"))
    return Plant(text=f"auth ok {key}={s.cvv} amount=1299", sad=(_cvv(s),))


def _text_cvv(rng: random.Random, s: Secrets) -> Plant:
    label = rng.choice(CVV_TEXT_LABELS)
    form = rng.choice(("{}: {}", "{} {}", "{}={}", "{} - {}", "{} #{}", "{} is {}", "{}:{}"))
    return Plant(text=form.format(label, s.cvv), sad=(_cvv(s),))


def _embedded_json(rng: random.Random, s: Secrets) -> Plant:
    doc = {
        "card": {"number": s.pan, "cvc": s.cvv, "exp_month": int(s.exp_mm)},
        "amount": 1299,
        "checks": {"cvc_check": "pass"},
    }
    return Plant(
        text=json.dumps(doc),
        pans=(s.pan,),
        sad=(_cvv(s),),
        embedded="json",
        keep=(("cvc_check", "pass"),),
    )


# --- track data (item 7) -----------------------------------------------------------------------


def _track(s: Secrets) -> Sad:
    return Sad("track", s.sad_tail)


def _track1(encoded: bool) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        t1 = f"%B{s.pan}^{s.name}^{s.track_tail}?"
        if encoded:
            t1 = urllib.parse.quote(t1, safe="")
        return Plant(text=f"swipe={t1}", pans=(s.pan,), sad=(_track(s),))

    return render


def _track2(rng: random.Random, s: Secrets) -> Plant:
    return Plant(text=f";{s.pan}={s.track_tail}?", pans=(s.pan,), sad=(_track(s),))


def _track2_masked_pan(rng: random.Random, s: Secrets) -> Plant:
    shown = s.pan[:4] + "*" * (len(s.pan) - 8) + s.pan[-4:]
    return Plant(text=f"track2={shown}={s.track_tail}", sad=(_track(s),))


def _emv_track(tag: str) -> Callable[[random.Random, Secrets], Plant]:
    def render(rng: random.Random, s: Secrets) -> Plant:
        value = f"{s.pan}D{s.track_tail}"
        if len(value) % 2:
            value += "F"
        tlv = f"{tag}{len(value) // 2:02X}{value}"
        if rng.random() < 0.5:
            tlv = " ".join(tlv[i : i + 2] for i in range(0, len(tlv), 2))
        return Plant(text=f"tlv {tlv}", pans=(s.pan,), sad=(_track(s),))

    return render


def _iso_de35(rng: random.Random, s: Secrets) -> Plant:
    t2 = f"{s.pan}={s.track_tail}"
    label = rng.choice(("DE035=", "DE35 LLVAR=", "F35: ", "field_035="))
    return Plant(text=f"{label}{len(t2):02d}{t2}", pans=(s.pan,), sad=(_track(s),))


# --- PIN blocks (item 8) -------------------------------------------------------------------------


def _pin(s: Secrets) -> Sad:
    return Sad("pin", s.pin_block)


def _iso_de52(rng: random.Random, s: Secrets) -> Plant:
    form = rng.choice(("DE052={}", "DE52: {}", "52: {}", "F52={}", "[052] {}", "field_052={}"))
    return Plant(text=form.format(s.pin_block), sad=(_pin(s),))


def _field52_xml(rng: random.Random, s: Secrets) -> Plant:
    return Plant(
        text=f'<isomsg><field id="0" value="0200"/><field id="52" value="{s.pin_block}"/></isomsg>',
        sad=(_pin(s),),
        embedded="xml",
    )


def _pin_text(rng: random.Random, s: Secrets) -> Plant:
    label = rng.choice(("PIN Data", "PIN block", "PINBlock", "pin_block", "Encrypted PIN"))
    return Plant(text=f"{label}: {s.pin_block}", sad=(_pin(s),))


def _pin_keys(rng: random.Random, s: Secrets) -> Plant:
    key = rng.choice(("encrypted_pin", "pin_block", "pinBlock", "PINData", "pin"))
    return Plant(fields={key: s.pin_block}, sad=(_pin(s),))


# --- expiry with a full PAN (item 12) ------------------------------------------------------------


def _expiry_with_pan(rng: random.Random, s: Secrets) -> Plant:
    exp = f"{s.exp_mm}/{s.exp_yy}"
    key = rng.choice(("expiry", "exp_date", "expiration", "card_exp", "valid_thru"))
    return Plant(fields={"card_number": s.pan, key: exp}, pans=(s.pan,), sad=(Sad("expiry", exp),))


# --- gateway shapes, written from the public API references (not copied) -------------------------


def _gw_stripe_net_http(rng: random.Random, s: Secrets) -> Plant:
    body = urllib.parse.urlencode(
        [
            ("type", "card"),
            ("card[number]", s.pan),
            ("card[cvc]", s.cvv),
            ("card[exp_month]", s.exp_mm),
            ("card[exp_year]", "20" + s.exp_yy),
        ]
    )
    wire = (
        "opening connection to api.stripe.com:443...\nopened\nstarting SSL for "
        'api.stripe.com:443...\n<- "POST /v1/payment_methods HTTP/1.1\\r\\nContent-Type: '
        "application/x-www-form-urlencoded\\r\\nIdempotency-Key: 9f1c2b7e\\r\\n"
        f'Content-Length: {len(body)}\\r\\n\\r\\n"\n<- "{body}"\n'
        '-> "HTTP/1.1 200 OK\\r\\n"\n-> "{\\n  \\"id\\": \\"pm_1Q2w3e\\",\\n  '
        '\\"card\\": {\\"checks\\": {\\"cvc_check\\": \\"unchecked\\"}}}"'
    )
    return Plant(text=wire, pans=(s.pan,), sad=(_cvv(s),), keep=(("cvc_check", "unchecked"),))


def _gw_stripe_form(rng: random.Random, s: Secrets) -> Plant:
    body = urllib.parse.urlencode(
        [
            ("amount", "1299"),
            ("currency", "eur"),
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][number]", s.pan),
            ("payment_method_data[card][cvc]", s.cvv),
            ("payment_method_data[card][exp_month]", s.exp_mm),
            ("confirm", "true"),
        ]
    )
    return Plant(text=body, pans=(s.pan,), sad=(_cvv(s),), embedded="form")


def _gw_adyen(rng: random.Random, s: Secrets) -> Plant:
    return Plant(
        fields={
            "merchantAccount": "ShopEU",
            "reference": f"order-{rng.randint(10000, 99999)}",
            "amount": {"currency": "EUR", "value": 1299},
            "paymentMethod": {
                "type": "scheme",
                "number": s.pan,
                "expiryMonth": s.exp_mm,
                "expiryYear": "20" + s.exp_yy,
                "cvc": s.cvv,
                "holderName": "J. Doe",
            },
            "additionalData": {"cvcResult": "1 Matches", "cvcResultRaw": "M"},
        },
        pans=(s.pan,),
        sad=(_cvv(s),),
        keep=(("cvcResult", "1 Matches"), ("cvcResultRaw", "M")),
    )


def _gw_braintree_xml(rng: random.Random, s: Secrets) -> Plant:
    xml = (
        "<transaction><type>sale</type><amount>12.99</amount><credit-card>"
        f"<number>{s.pan}</number><cvv>{s.cvv}</cvv>"
        f"<expiration-date>{s.exp_mm}/20{s.exp_yy}</expiration-date></credit-card>"
        "<cvv-response-code>M</cvv-response-code></transaction>"
    )
    return Plant(
        text=xml,
        pans=(s.pan,),
        sad=(_cvv(s),),
        embedded="xml",
        keep=(("cvv-response-code", "M"),),
    )


def _gw_cybersource_json(rng: random.Random, s: Secrets) -> Plant:
    return Plant(
        fields={
            "clientReferenceInformation": {"code": f"TC{rng.randint(10000, 99999)}"},
            "paymentInformation": {
                "card": {
                    "number": s.pan,
                    "expirationMonth": s.exp_mm,
                    "expirationYear": "20" + s.exp_yy,
                    "securityCode": s.cvv,
                    "securityCodeIndicator": "1",
                }
            },
            "processorInformation": {"cardVerification": {"resultCode": "M"}},
        },
        pans=(s.pan,),
        sad=(_cvv(s),),
        keep=(("securityCodeIndicator", "1"), ("resultCode", "M")),
    )


def _gw_cybersource_soap(rng: random.Random, s: Secrets) -> Plant:
    xml = (
        '<requestMessage xmlns="urn:schemas-cybersource-com:transaction-data-1.211">'
        "<merchantID>shop</merchantID><card>"
        f"<accountNumber>{s.pan}</accountNumber><expirationMonth>{s.exp_mm}</expirationMonth>"
        f"<expirationYear>20{s.exp_yy}</expirationYear><cvIndicator>1</cvIndicator>"
        f"<cvNumber>{s.cvv}</cvNumber><cardType>001</cardType></card></requestMessage>"
    )
    return Plant(
        text=xml,
        pans=(s.pan,),
        sad=(_cvv(s),),
        embedded="xml",
        keep=(("cvIndicator", "1"), ("cardType", "001")),
    )


def _gw_authorize_net(rng: random.Random, s: Secrets) -> Plant:
    xml = (
        "<createTransactionRequest><transactionRequest><payment><creditCard>"
        f"<cardNumber>{s.pan}</cardNumber><expirationDate>20{s.exp_yy}-{s.exp_mm}"
        f"</expirationDate><cardCode>{s.cvv}</cardCode></creditCard></payment>"
        "</transactionRequest></createTransactionRequest>"
        " resp=<cvvResultCode>M</cvvResultCode>"
    )
    return Plant(text=xml, pans=(s.pan,), sad=(_cvv(s),), keep=(("cvvResultCode", "M"),))


def _gw_jpos_xml(rng: random.Random, s: Secrets) -> Plant:
    t2 = f"{s.pan}={s.track_tail}"
    xml = (
        '<isomsg direction="outgoing">'
        '<field id="0" value="0200"/>'
        f'<field id="2" value="{s.pan}"/>'
        '<field id="3" value="000000"/>'
        '<field id="4" value="000000001299"/>'
        f'<field id="11" value="{rng.randint(0, 999999):06d}"/>'
        f'<field id="35" value="{t2}"/>'
        f'<field id="52" value="{s.pin_block}" type="binary"/>'
        "</isomsg>"
    )
    return Plant(text=xml, pans=(s.pan,), sad=(_track(s), _pin(s)), embedded="xml")


def _gw_iso_text_dump(rng: random.Random, s: Secrets) -> Plant:
    n = len(s.pan)
    t2 = f"{s.pan}D{s.track_tail}"
    dump = (
        f"MTI  [0100]\n"
        f"  2  Primary Account Number ........ [{n:02d}] {s.pan}\n"
        f"  3  Processing Code ............... 003000\n"
        f"  4  Amount, Transaction ........... 000000001299\n"
        f" 35  Track 2 Data .................. [{len(t2):02d}] {t2}\n"
        f" 52  PIN Data ...................... {s.pin_block}\n"
    )
    return Plant(text=dump, pans=(s.pan,), sad=(_track(s), _pin(s)))


def _gw_emv_tlv(rng: random.Random, s: Secrets) -> Plant:
    pan = s.pan + ("F" if len(s.pan) % 2 else "")
    t2 = f"{s.pan}D{s.track_tail}"
    if len(t2) % 2:
        t2 += "F"
    tlv = (
        f"9F02060000000012999F2608{rng.getrandbits(64):016X}"
        f"5A{len(pan) // 2:02X}{pan}5F2403{s.exp_yy}{s.exp_mm}3157{len(t2) // 2:02X}{t2}"
        f"9F3303E0F0C8"
    )
    return Plant(text=f"EMV ICC data: {tlv}", pans=(s.pan,), sad=(_track(s),))


def _gw_worldpay_xml(rng: random.Random, s: Secrets) -> Plant:
    xml = (
        "<paymentDetails><CARD-SSL><cardNumber>"
        f'{" ".join(split(s.pan, [4] * 5))}</cardNumber><expiryDate><date month="{s.exp_mm}" '
        f'year="20{s.exp_yy}"/></expiryDate><cardHolderName>J Doe</cardHolderName>'
        f"<cvc>{s.cvv}</cvc></CARD-SSL></paymentDetails>"
    )
    return Plant(text=xml, pans=(s.pan,), sad=(_cvv(s),), embedded="xml")


# --- more forms, from the same rules ----------------------------------------------------------


def _exponent_lengths(brand: Brand) -> tuple[int, ...]:
    # a JSON number in exponent form is exact in a double up to 2**53: 15 digits always
    return tuple(n for n in brand.lengths if 13 <= n <= 15)


def _json_exponent(rng: random.Random, s: Secrets) -> Plant:
    """RFC 8259 allows `4.0123456789012e14`: msgspec decodes it as an integral float."""
    mantissa = f"{s.pan[0]}.{s.pan[1:]}"
    return Plant(fields={"card": _Raw(f"{mantissa}e{len(s.pan) - 1}")}, pans=(s.pan,))


class _Raw(str):
    """A JSON number written as is in the line (see `encode_line`)."""


def _embedded_json_numbers(rng: random.Random, s: Secrets) -> Plant:
    cvc: Any = s.cvv if s.cvv.startswith("0") else int(s.cvv)
    doc = {"source": {"number": int(s.pan), "cvc": cvc}, "amount": 1299}
    return Plant(text=json.dumps(doc), pans=(s.pan,), sad=(_cvv(s),), embedded="json")


def _embedded_json_twice(rng: random.Random, s: Secrets) -> Plant:
    inner = json.dumps({"card": {"number": " ".join(split(s.pan, [4] * 5)), "cvv": s.cvv}})
    return Plant(
        text=json.dumps({"event": "charge.request", "payload": inner}),
        pans=(s.pan,),
        sad=(_cvv(s),),
        embedded="json",
    )


def _url_pct_nbsp(rng: random.Random, s: Secrets) -> Plant:
    sep = rng.choice(("%C2%A0", "%E2%80%AF", "%E2%80%89"))
    return _pan(f"/pay?pan={sep.join(irregular(rng, s.pan))}&ok=1", s)


def _track2_d(rng: random.Random, s: Secrets) -> Plant:
    return Plant(text=f"t2={s.pan}D{s.track_tail}F", pans=(s.pan,), sad=(_track(s),))


def _track1_no_sentinel(rng: random.Random, s: Secrets) -> Plant:
    return Plant(text=f"B{s.pan}^{s.name}^{s.track_tail}", pans=(s.pan,), sad=(_track(s),))


def _iso_de45(rng: random.Random, s: Secrets) -> Plant:
    t1 = f"B{s.pan}^{s.name}^{s.track_tail}"
    label = rng.choice(("DE045=", "DE45 LLVAR=", "F45: ", "field_045="))
    return Plant(text=f"{label}{len(t1):02d}{t1}", pans=(s.pan,), sad=(_track(s),))


def _xml_escaped_in_json(rng: random.Random, s: Secrets) -> Plant:
    """XML whose text holds the card as character references (XML 1.0 section 4.1)."""
    digits = "".join(f"&#{ord(c)};" if i % 3 == 0 else c for i, c in enumerate(s.pan))
    xml = f"<payment><cardNumber>{digits}</cardNumber><cvc>{s.cvv}</cvc></payment>"
    return Plant(text=xml, pans=(s.pan,), sad=(_cvv(s),), embedded="xml")


def _header_cvv(rng: random.Random, s: Secrets) -> Plant:
    name = rng.choice(("X-Card-CVV", "X-Security-Code", "X-Pin-Block"))
    value = s.pin_block if "Pin" in name else s.cvv
    sad = _pin(s) if "Pin" in name else _cvv(s)
    return Plant(text=f"> {name}: {value}\r\n> Accept: */*", sad=(sad,))


def _card_field_non_luhn_text(rng: random.Random, s: Secrets) -> Plant:
    value = make_non_luhn(rng, len(s.pan))
    form = rng.choice(
        (
            "card_number={}",
            "<cardNumber>{}</cardNumber>",
            '{{"pan": "{}"}}',
            "DE002 LLVAR=" + f"{len(value):02d}" + "{}",
            "F2: " + f"{len(value):02d}" + "{}",
            "card number: {}",
        )
    )
    return Plant(text=form.format(value), pans=(value,))


def _pin_plain(rng: random.Random, s: Secrets) -> Plant:
    pin = s.cvv + "7" if len(s.cvv) == 3 else s.cvv
    form = rng.choice(("PIN: {}", "pin={}", '"pin": "{}"', "<PIN>{}</PIN>", "card PIN {}"))
    return Plant(text=form.format(pin), sad=(Sad("pin_digits", pin),))


def _html_nbsp(rng: random.Random, s: Secrets) -> Plant:
    sep = rng.choice(("&nbsp;", "&#160;", "&#xa0;", "&thinsp;", "&ndash;"))
    return _pan(sep.join(split(s.pan, [4] * 5)), s)


def _python_repr(rng: random.Random, s: Secrets) -> Plant:
    """A Python repr in a log line: `\\xa0` separators, `\\x34` digits."""
    if rng.random() < 0.5:
        text = "\\xa0".join(irregular(rng, s.pan))
    else:
        text = "".join(f"\\x{ord(c):02x}" if rng.random() < 0.5 else c for c in s.pan)
    return _pan(f"payload={{'card': '{text}', 'amount': 1299}}", s)


def _emv_json_tags(rng: random.Random, s: Secrets) -> Plant:
    pan = s.pan + ("F" if len(s.pan) % 2 else "")
    t2 = f"{s.pan}D{s.track_tail}"
    if len(t2) % 2:
        t2 += "F"
    return Plant(
        fields={"emv": {"9F02": "000000001299", "5A": pan, "57": t2, "5F24": "301231"}},
        pans=(s.pan,),
        sad=(_track(s),),
    )


def _two_cards_one_chain(rng: random.Random, s: Secrets) -> Plant:
    """Two cards joined by one separator (a `+`-encoded list, a dashed pair): one chain of
    digit groups holding two card windows; both must go."""
    brand = rng.choice(BRANDS)
    other = make_pan(rng, brand, rng.choice([n for n in brand.lengths if n >= 13]))
    sep = rng.choice(("+", " ", "-", "."))
    first = " ".join(split(s.pan, [4] * 5)) if sep != " " else s.pan
    second = rng.choice((other, "-".join(split(other, [4] * 5)))) if sep != "-" else other
    return Plant(text=f"cards={first}{sep}{second}", pans=(s.pan, other))


# --- the registry ------------------------------------------------------------------------------

_PAN = "pan"
STYLES: tuple[Style, ...] = (
    Style("plain", _PAN, "ISO/IEC 7812 PAN, contiguous", _plain, (*TEXT_POSITIONS, "number")),
    Style("group4_space", _PAN, "printed 4-4-4-4(-x)", _grouped4(" "), TEXT_POSITIONS),
    Style("group4_dash", _PAN, "printed 4-4-4-4(-x)", _grouped4("-"), TEXT_POSITIONS),
    Style("irregular_space", _PAN, "item 1: any group sizes", _irregular(" "), TEXT_POSITIONS),
    Style("irregular_dash", _PAN, "item 1: any group sizes", _irregular("-"), TEXT_POSITIONS),
    Style("irregular_dot", _PAN, "item 1: any group sizes", _irregular("."), TEXT_POSITIONS),
    Style("group_4333", _PAN, "item 1: 4-3-3-3", _sizes([4, 3, 3, 3, 3, 3]), TEXT_POSITIONS),
    Style("group_6_rest", _PAN, "item 1: 6-10 / 6-13", _sizes([6]), TEXT_POSITIONS),
    Style("group_444_rest", _PAN, "item 1: 4-4-4-5/6/7", _sizes([4, 4, 4]), TEXT_POSITIONS),
    Style("group_4_2_4_rest", _PAN, "item 1: 4 11 1111 ...", _sizes([4, 2, 4]), TEXT_POSITIONS),
    Style("mixed_separators", _PAN, "item 1: space/dash/dot mixed", _mixed, TEXT_POSITIONS),
    Style("tab_separated", _PAN, "item 1: tab is whitespace", _tab_sep, TEXT_POSITIONS),
    Style("logfmt_dashes", _PAN, "item 1: logfmt, dashes", _logfmt, TEXT_POSITIONS),
    Style("url_plus", _PAN, "item 1: form/URL `+`", _url("+"), TEXT_POSITIONS),
    Style("url_pct20", _PAN, "item 1: `%20`", _url("%20"), TEXT_POSITIONS),
    Style("url_pct2D", _PAN, "item 1: `%2D`", _url("%2D"), TEXT_POSITIONS),
    Style("url_pct_digits", _PAN, "RFC 3986 encoded digits", _pct_digits, TEXT_POSITIONS),
    Style("url_double_encoded", _PAN, "`%2520`", _double_encoded, TEXT_POSITIONS),
    Style(
        "json_escaped_digits",
        _PAN,
        "RFC 8259 \\u0034 in the line",
        _json_escape_digits,
        TEXT_POSITIONS,
    ),
    Style(
        "text_escaped_digits",
        _PAN,
        "\\u0034 in an embedded doc",
        _text_escape_digits,
        TEXT_POSITIONS,
    ),
    Style("nbsp_raw", _PAN, "item 2: U+00A0", _uni_sep(("\u00a0",), "irregular"), TEXT_POSITIONS),
    Style(
        "narrow_nbsp_raw", _PAN, "item 2: U+202F", _uni_sep(("\u202f",), "group4"), TEXT_POSITIONS
    ),
    Style(
        "thin_space_raw", _PAN, "item 2: U+2009", _uni_sep(("\u2009",), "irregular"), TEXT_POSITIONS
    ),
    Style(
        "other_spaces_raw",
        _PAN,
        "item 2: Unicode Zs",
        _uni_sep(UNI_SPACES, "group4"),
        TEXT_POSITIONS,
    ),
    Style("unicode_dashes", _PAN, "Unicode Pd", _uni_sep(UNI_DASHES, "irregular"), TEXT_POSITIONS),
    Style(
        "nbsp_json_escape",
        _PAN,
        "item 2: \\u00a0 in the line",
        _uni_sep_escaped("\u00a0", True),
        TEXT_POSITIONS,
    ),
    Style(
        "nbsp_text_escape",
        _PAN,
        "item 2: \\u00a0 in an embedded doc",
        _uni_sep_escaped("\u00a0", False),
        TEXT_POSITIONS,
    ),
    Style("fullwidth_raw", _PAN, "item 2: U+FF10-FF19", _fullwidth(False), TEXT_POSITIONS),
    Style(
        "fullwidth_escape", _PAN, "item 2: \\uff14 in the line", _fullwidth(True), TEXT_POSITIONS
    ),
    Style("other_unicode_digits", _PAN, "Unicode Nd", _other_digits, TEXT_POSITIONS),
    Style("html_entities", _PAN, "HTML &#52; / &#x34;", _html_entities, TEXT_POSITIONS),
    Style("iso8583_llvar_label", _PAN, "item 3: ISO 8583 DE2 LLVAR", _iso_llvar, TEXT_POSITIONS),
    Style("iso8583_raw_message", _PAN, "ISO 8583 MTI+bitmap+DE2", _iso_raw, TEXT_POSITIONS),
    Style("emv_5a_hex", _PAN, "item 3: EMV tag 5A", _emv_5a(False), TEXT_POSITIONS),
    Style("emv_5a_spaced", _PAN, "item 3: EMV 5A spaced bytes", _emv_5a(True), TEXT_POSITIONS),
    Style("glued_identifier", _PAN, "item 4: tok_<PAN>abc", _glued_ident, TEXT_POSITIONS),
    Style("hex_letters_one_side", _PAN, "item 4: not a hex id", _hex_one_side, TEXT_POSITIONS),
    Style(
        "short_pan_array_numbers",
        "context",
        "item 5: 12-13 digits in a pans array",
        _short_array(True),
        FIELD_POSITIONS,
        _short_lengths,
    ),
    Style(
        "short_pan_array_strings",
        "context",
        "item 5: 12-13 digits in card_numbers",
        _short_array(False),
        FIELD_POSITIONS,
        _short_lengths,
    ),
    Style(
        "short_pan_under_key",
        "context",
        "item 5: under a PAN key",
        _short_key,
        FIELD_POSITIONS,
        _short_lengths,
    ),
    Style(
        "short_pan_card_word",
        "context",
        "item 5: after a card word",
        _short_card_word,
        TEXT_POSITIONS,
        _short_lengths,
    ),
    Style(
        "card_field_non_luhn",
        "context",
        "item 5: card field, any checksum",
        _card_field_non_luhn,
        FIELD_POSITIONS,
    ),
    Style("stripe_form_cvc", "sad", "item 6: card[cvc]=", _stripe_form(False), DOC_POSITIONS),
    Style(
        "stripe_form_cvc_encoded",
        "sad",
        "item 6: card%5Bcvc%5D=",
        _stripe_form(True),
        DOC_POSITIONS,
    ),
    Style("xml_cvv_tags", "sad", "item 6: gateway XML tags", _xml_cvv, DOC_POSITIONS),
    Style("json_key_cvv", "sad", "item 6: gateway JSON keys", _json_key_cvv, FIELD_POSITIONS),
    Style(
        "security_code_object",
        "sad",
        "item 6: securityCode {value}",
        _security_code_object,
        FIELD_POSITIONS,
    ),
    Style("logfmt_cvv", "sad", "item 6: logfmt cvv2=560", _logfmt_cvv, TEXT_POSITIONS[:7]),
    Style("text_cvv", "sad", "item 6: CVV: 123", _text_cvv, TEXT_POSITIONS[:7]),
    Style("embedded_json_card", "sad", "item 10: JSON in a string", _embedded_json, DOC_POSITIONS),
    Style("track1_plain", "track", "item 7: track 1", _track1(False), TEXT_POSITIONS[:7]),
    Style("track1_urlencoded", "track", "item 7: %25B..%5E..", _track1(True), TEXT_POSITIONS[:7]),
    Style("track2_plain", "track", "item 7: track 2", _track2, TEXT_POSITIONS[:7]),
    Style(
        "track2_masked_pan",
        "track",
        "item 7: tail after a masked PAN",
        _track2_masked_pan,
        TEXT_POSITIONS[:7],
    ),
    Style("emv_57", "track", "item 7: EMV tag 57", _emv_track("57"), TEXT_POSITIONS[:7]),
    Style("emv_9f6b", "track", "item 7: EMV tag 9F6B", _emv_track("9F6B"), TEXT_POSITIONS[:7]),
    Style("iso8583_de35", "track", "item 3/7: DE35 LL+track 2", _iso_de35, TEXT_POSITIONS[:7]),
    Style("iso8583_de52", "pin", "item 8: DE52 dumps", _iso_de52, TEXT_POSITIONS[:7]),
    Style("field52_xml", "pin", "item 8: jPOS <field id=52>", _field52_xml, DOC_POSITIONS),
    Style("pin_text_labels", "pin", "item 8: PIN Data: ...", _pin_text, TEXT_POSITIONS[:7]),
    Style("pin_json_keys", "pin", "item 8: encrypted_pin / pin_block", _pin_keys, FIELD_POSITIONS),
    Style(
        "expiry_with_pan",
        "expiry",
        "item 12: expiry beside a full PAN",
        _expiry_with_pan,
        FIELD_POSITIONS,
    ),
    Style(
        "gw_stripe_net_http",
        "gateway",
        "Stripe via Ruby Net::HTTP set_debug_output",
        _gw_stripe_net_http,
        TEXT_POSITIONS[:1],
    ),
    Style(
        "gw_stripe_form",
        "gateway",
        "Stripe PaymentIntent form body",
        _gw_stripe_form,
        DOC_POSITIONS,
    ),
    Style("gw_adyen_json", "gateway", "Adyen /payments", _gw_adyen, FIELD_POSITIONS),
    Style("gw_braintree_xml", "gateway", "Braintree XML gateway", _gw_braintree_xml, DOC_POSITIONS),
    Style(
        "gw_cybersource_json",
        "gateway",
        "CyberSource REST /pts/v2/payments",
        _gw_cybersource_json,
        FIELD_POSITIONS,
    ),
    Style(
        "gw_cybersource_soap",
        "gateway",
        "CyberSource SOAP requestMessage",
        _gw_cybersource_soap,
        DOC_POSITIONS,
    ),
    Style(
        "gw_authorize_net_xml",
        "gateway",
        "Authorize.net createTransactionRequest",
        _gw_authorize_net,
        TEXT_POSITIONS[:1],
    ),
    Style("gw_worldpay_xml", "gateway", "Worldpay XML CARD-SSL", _gw_worldpay_xml, DOC_POSITIONS),
    Style("gw_jpos_xml", "gateway", "jPOS ISOMsg XML dump", _gw_jpos_xml, DOC_POSITIONS),
    Style(
        "gw_iso8583_text_dump",
        "gateway",
        "ISO 8583 field dump (text)",
        _gw_iso_text_dump,
        TEXT_POSITIONS[:1],
    ),
    Style("gw_emv_tlv", "gateway", "EMV ICC data (DE55) TLV hex", _gw_emv_tlv, TEXT_POSITIONS[:7]),
    Style(
        "json_exponent_number",
        _PAN,
        "RFC 8259 exponent number",
        _json_exponent,
        FIELD_POSITIONS[:3],
        _exponent_lengths,
    ),
    Style(
        "embedded_json_numbers",
        "sad",
        "item 10: numbers in JSON in a string",
        _embedded_json_numbers,
        DOC_POSITIONS,
    ),
    Style(
        "embedded_json_twice",
        "sad",
        "item 10: JSON in a string in JSON in a string",
        _embedded_json_twice,
        DOC_POSITIONS,
    ),
    Style(
        "url_pct_nbsp", _PAN, "items 1+2: %C2%A0 / %E2%80%AF in URLs", _url_pct_nbsp, TEXT_POSITIONS
    ),
    Style(
        "track2_d_separator",
        "track",
        "item 7: track 2 with D (EMV form)",
        _track2_d,
        TEXT_POSITIONS[:7],
    ),
    Style(
        "track1_no_sentinel",
        "track",
        "item 7: track 1 without %",
        _track1_no_sentinel,
        TEXT_POSITIONS[:7],
    ),
    Style("iso8583_de45", "track", "ISO 8583 DE45 LL + track 1", _iso_de45, TEXT_POSITIONS[:7]),
    Style("xml_char_refs", "sad", "XML character references", _xml_escaped_in_json, DOC_POSITIONS),
    Style("http_header_sad", "sad", "curl -v request headers", _header_cvv, TEXT_POSITIONS[:7]),
    Style(
        "card_field_non_luhn_text",
        "context",
        "item 5: card field in text, any checksum",
        _card_field_non_luhn_text,
        TEXT_POSITIONS[:7],
    ),
    Style("pin_plain_digits", "pin", "PCI 3.3.1.3: the PIN itself", _pin_plain, TEXT_POSITIONS[:7]),
    Style(
        "html_entity_separators",
        _PAN,
        "HTML &nbsp; / &#160; / &ndash; separators",
        _html_nbsp,
        TEXT_POSITIONS,
    ),
    Style(
        "python_repr_escapes",
        _PAN,
        "Python repr: \\xa0 separators, \\x34 digits",
        _python_repr,
        TEXT_POSITIONS[:7],
    ),
    Style(
        "emv_tags_as_json_keys",
        "track",
        "EMV tags 5A / 57 as JSON keys",
        _emv_json_tags,
        FIELD_POSITIONS,
    ),
    Style(
        "two_cards_one_chain",
        _PAN,
        "two card windows in one digit chain",
        _two_cards_one_chain,
        TEXT_POSITIONS,
    ),
)
STYLE_NAMES = tuple(s.name for s in STYLES)
assert len(set(STYLE_NAMES)) == len(STYLE_NAMES)


# --- positions ---------------------------------------------------------------------------------

_WORDS = ("payment", "authorised", "retrying", "gateway", "response", "capture", "order")


def _background(rng: random.Random) -> dict[str, Any]:
    ms = rng.randint(0, 999)
    return {
        "ts": f"2026-12-04T15:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{ms:03d}Z",
        "level": rng.choice(("info", "warn", "error")),
        "logger": "payments.gateway",
        "request_id": f"req_{rng.getrandbits(48):012x}",
    }


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _place_text(rng: random.Random, position: str, text: str) -> tuple[dict[str, Any], tuple]:
    """Record fields holding `text` at `position`, and the path to the string holding it."""
    head, tail = _words(rng, 3), _words(rng, 2)
    if position == "whole":
        return {"msg": text}, ("msg",)
    if position == "start":
        return {"msg": f"{text} {tail}"}, ("msg",)
    if position == "middle":
        return {"msg": f"{head} {text} {tail}"}, ("msg",)
    if position == "end":
        return {"msg": f"{head} {text}"}, ("msg",)
    if position == "quoted":
        q = rng.choice(('"{}"', "'{}'", "`{}`", "«{}»"))
        return {"msg": f"{head} {q.format(text)} {tail}"}, ("msg",)
    if position == "punct":
        p = rng.choice(("({});", "[{}]", "<{}>", ":{},", "{}.", "={}|"))
        return {"msg": f"{head} {p.format(text)}{tail}"}, ("msg",)
    if position == "newline":
        return {"msg": f"{head}\n{text}\n{tail}"}, ("msg",)
    if position == "key":
        return {"seen": {text: "declined"}}, ("seen",)
    if position == "array":
        return {"items": ["a1", text, "z9"]}, ("items", 1)
    if position == "nested":
        return {"payment": {"source": {"detail": text}}}, ("payment", "source", "detail")
    raise ValueError(position)


def _place_fields(
    rng: random.Random, position: str, fields: dict[str, Any]
) -> tuple[dict[str, Any], tuple, str | None]:
    if position == "top":
        return dict(fields), (), None
    if position == "nested":
        return {"payment": {"source": fields}}, ("payment", "source"), None
    if position == "array":
        return {"attempts": [{"n": 1}, fields]}, ("attempts", 1), None
    if position == "body_json":
        return {"http": {"body": json.dumps(fields)}}, ("http", "body"), "json"
    if position == "msg_json":
        return {"msg": f"request {json.dumps(fields)}"}, ("msg",), None
    raise ValueError(position)


@dataclass
class Case:
    """One generated log line and what it hides. `line` is never printed."""

    style: str
    kind: str
    brand: str
    length: int
    position: str
    seed: int
    line: bytes = field(repr=False)
    pans: tuple[str, ...] = field(repr=False)
    sad: tuple[Sad, ...] = field(repr=False)
    embedded: str | None
    path: tuple = ()
    keep: tuple[tuple[str, str], ...] = ()
    background: bytes = field(default=b"", repr=False)  # the same line with other secrets

    @property
    def label(self) -> str:
        return f"{self.style}/{self.brand}/{self.length}/{self.position}/seed={self.seed}"


def _render(style: Style, position: str, rng: random.Random, s: Secrets) -> tuple:
    plant = style.render(rng, s)
    record = _background(rng)
    embedded = plant.embedded
    if plant.fields is not None:
        fields, path, emb = _place_fields(rng, position, plant.fields)
        embedded = emb
    elif position == "number":
        assert plant.number is not None
        fields, path = {"card": plant.number}, ("card",)
        embedded = None
    else:
        assert plant.text is not None
        fields, path = _place_text(rng, position, plant.text)
        if position not in DOC_POSITIONS:
            embedded = None
    record.update(fields)
    record["amount_minor"] = rng.randint(100, 99999)
    line = encode_line(record)
    return line, plant, embedded, path


def build_case(style: Style, brand: Brand, length: int, position: str, seed: int) -> Case:
    key = f"{style.name}|{brand.name}|{length}|{position}|{seed}"
    rng_secret = random.Random("s" + key)
    pan = make_pan(rng_secret, brand, length)
    secrets = make_secrets(rng_secret, pan, amex=brand.name == "amex")
    while True:  # the background's secrets differ from the planted ones in every field
        other_pan = make_pan(rng_secret, brand, length)
        other = make_secrets(rng_secret, other_pan, amex=brand.name == "amex")
        if (
            other_pan != pan
            and other.cvv != secrets.cvv
            and (other.exp_mm, other.exp_yy) != (secrets.exp_mm, secrets.exp_yy)
            and other.pin_block != secrets.pin_block
        ):
            break
    line, plant, embedded, path = _render(style, position, random.Random("b" + key), secrets)
    bg_line, _, _, _ = _render(style, position, random.Random("b" + key), other)
    return Case(
        style=style.name,
        kind=style.kind,
        brand=brand.name,
        length=length,
        position=position,
        seed=seed,
        line=line,
        pans=plant.pans,
        sad=plant.sad,
        embedded=embedded,
        path=path,
        keep=plant.keep,
        background=bg_line,
    )


def lengths_of(style: Style, brand: Brand) -> tuple[int, ...]:
    return (style.lengths or _default_lengths)(brand)


def cases(
    seeds: range | list[int] = range(1),
    styles: tuple[Style, ...] = STYLES,
    brands: tuple[Brand, ...] = BRANDS,
) -> Iterator[Case]:
    """Every style x brand x length x position, per seed."""
    for seed in seeds:
        for style in styles:
            for brand in brands:
                for length in lengths_of(style, brand):
                    for position in style.positions:
                        yield build_case(style, brand, length, position, seed)


def style(name: str) -> Style:
    return next(s for s in STYLES if s.name == name)


def embeds(st: Style) -> bool:
    """Whether some position of the style plants a document that must still parse."""
    brand = next(b for b in BRANDS if lengths_of(st, b))
    n = lengths_of(st, brand)[0]
    return any(build_case(st, brand, n, p, 0).embedded for p in st.positions)
