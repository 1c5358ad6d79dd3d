"""A slow reference detector of card data, written from the rules, not from collector/redact.

It shares no code and no table with the implementation. It is built to be obviously right,
not fast: every text is normalised character by character (with a map back to the original
offsets), every chain of digit groups is enumerated, every 12-19 digit window of it is
tested for Luhn, brand and length, and the few exemptions are named (`EXEMPTIONS`) so a test
can count how often each one decides.

Sources of the rules:
- ISO/IEC 7812-1 (PAN: issuer identification number + account + Luhn check digit, 8-19
  digits; payment cards issue 12-19) and the brands' public IIN ranges (`BRANDS`).
- PCI DSS v4.0 3.3.1 (sensitive authentication data: full track, card verification code,
  PIN / PIN block) and 3.4.1 (display at most the BIN and the last four).
- ISO 8583 (field 2 PAN as LLVAR, 35 track 2, 45 track 1, 52 PIN data; MTI + bitmap).
- EMV Book 3 annex A (tags 5A PAN, 57 track 2 equivalent, 9F6B track 2 data, 5F24 expiry,
  99 / C0-style PIN data in proprietary dumps).

Nothing in here prints a card number: results are offsets, lengths, brands and names.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

# --- brands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Brand:
    """An issuer family: IIN ranges (inclusive, as equal-length digit strings) and lengths."""

    name: str
    ranges: tuple[tuple[str, str], ...]
    lengths: tuple[int, ...]

    def matches(self, digits: str) -> bool:
        if len(digits) not in self.lengths:
            return False
        return any(lo <= digits[: len(lo)] <= hi for lo, hi in self.ranges)


def _r(*specs: str) -> tuple[tuple[str, str], ...]:
    """`"51-55"` -> ("51", "55"); `"34"` -> ("34", "34")."""
    out = []
    for spec in specs:
        lo, _, hi = spec.partition("-")
        out.append((lo, hi or lo))
    return tuple(out)


# From the brands' public IIN tables (Visa, Mastercard, Amex, Discover Global Network incl.
# Diners / JCB / UnionPay / RuPay acceptance, Mir, Maestro, Troy, Verve) as published in
# their developer docs; where a brand's range is disputed the wider reading is taken.
BRANDS: tuple[Brand, ...] = (
    Brand("visa", _r("4"), (13, 16, 19)),
    Brand("mastercard", _r("51-55", "2221-2720"), (16,)),
    Brand("amex", _r("34", "37"), (15,)),
    Brand("discover", _r("6011", "644-649", "65", "622126-622925"), (16, 17, 18, 19)),
    Brand("jcb", _r("3528-3589"), (16, 17, 18, 19)),
    Brand("diners", _r("300-305", "3095", "36", "38-39"), (14, 15, 16, 17, 18, 19)),
    Brand("unionpay", _r("62", "81"), (16, 17, 18, 19)),
    Brand("mir", _r("2200-2204"), (16, 17, 18, 19)),
    Brand("rupay", _r("60", "65", "81", "82", "508", "353", "356"), (16,)),
    Brand("maestro", _r("50", "56-69"), (12, 13, 14, 15, 16, 17, 18, 19)),
    Brand("verve", _r("506099-506198", "650002-650027"), (16, 18, 19)),
    Brand("troy", _r("979200-979289"), (16,)),
)

MIN_LEN, MAX_LEN = 12, 19
# A 12-digit number is a card (Maestro) only where the text or key says "card".
CONTEXT_ONLY_LEN = 12


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def brand_of(digits: str) -> str | None:
    """The first brand that issues this prefix at this length (no Luhn check)."""
    for brand in BRANDS:
        if brand.matches(digits):
            return brand.name
    return None


def is_pan(digits: str, *, context: bool = False) -> bool:
    """Luhn + brand + length; 12 digits only with card context."""
    if not digits.isascii() or not digits.isdigit():
        return False
    if not MIN_LEN <= len(digits) <= MAX_LEN:
        return False
    if len(digits) == CONTEXT_ONLY_LEN and not context:
        return False
    return luhn_ok(digits) and brand_of(digits) is not None


# --- normalisation ---------------------------------------------------------------------------


@dataclass
class Normalised:
    """Normalised text and, per character, the [start, end) it came from in the original."""

    text: str
    spans: list[tuple[int, int]]

    def origin(self, start: int, end: int) -> tuple[int, int]:
        return self.spans[start][0], self.spans[end - 1][1]


_ESCAPE = re.compile(
    r"\\+u([0-9a-fA-F]{4})"  # JSON \u0034, also \\u0034 (a JSON document in a string)
    r"|\\+x([0-9a-fA-F]{2})"  # \x34
    r"|\\+([nrtfb])"  # \n \t ... (whitespace: a separator)
    r'|\\+(["/\\])'  # \" \/
    r"|((?:%[0-9a-fA-F]{2})+)"  # percent-encoding, a run of bytes (UTF-8)
    r"|(&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"  # HTML entity
)
_CONTROL = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "b": " "}


def _decode_percent(run: str) -> list[tuple[str, int, int]]:
    """Percent bytes -> characters with their [start, end) inside `run`, where they decode
    as UTF-8; a byte that does not (`%B4` of a track 1 `%B4111...`) stays as written."""
    data = bytes(int(run[i + 1 : i + 3], 16) for i in range(0, len(run), 3))
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(data):
        for size in (4, 3, 2, 1):
            chunk = data[i : i + size]
            if len(chunk) < size:
                continue
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                out.append((text, 3 * i, 3 * (i + size)))
                i += size
                break
        else:
            out.extend((run[3 * i + k], 3 * i + k, 3 * i + k + 1) for k in range(3))
            i += 1
    return out


def _decode_once(chars: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    text = "".join(c for c, _, _ in chars)
    out: list[tuple[str, int, int]] = []
    pos = 0
    for m in _ESCAPE.finditer(text):
        out.extend(chars[pos : m.start()])
        pos = m.end()
        start, end = chars[m.start()][1], chars[m.end() - 1][2]
        if m.group(1) or m.group(2):
            out.append((chr(int(m.group(1) or m.group(2), 16)), start, end))
        elif m.group(3):
            out.append((_CONTROL[m.group(3)], start, end))
        elif m.group(4):
            out.append((m.group(4), start, end))
        elif m.group(5):
            base = m.start()
            for ch, a, b in _decode_percent(m.group(5)):
                out.append((ch, chars[base + a][1], chars[base + b - 1][2]))
        else:
            decoded = html.unescape(m.group(6))
            if decoded == m.group(6) or len(decoded) != 1:
                out.extend(chars[m.start() : m.end()])
            else:
                out.append((decoded, start, end))
    out.extend(chars[pos:])
    return out


def _fold(ch: str) -> str:
    """Unicode digits to ASCII, space separators to ' ', dashes to '-'."""
    if ch.isascii():
        return " " if ch in "\t\n\r\f\v" else ch
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    cat = unicodedata.category(ch)
    if cat == "Zs" or ch in "\u2028\u2029\u0085":
        return " "
    if cat == "Pd" or ch in "\u2212\ufe63\uff0d":
        return "-"
    if ch in "\u200b\u2060\ufeff":  # zero-width: a separator a reader never sees
        return " "
    return ch


def normalise(text: str) -> Normalised:
    """Undo every layer that hides a digit or a separator (up to four layers deep)."""
    chars = [(c, i, i + 1) for i, c in enumerate(text)]
    for _ in range(4):
        decoded = _decode_once(chars)
        if decoded == chars:
            break
        chars = decoded
    folded = "".join(_fold(c) for c, _, _ in chars)
    return Normalised(folded, [(a, b) for _, a, b in chars])


# --- digit chains and windows ----------------------------------------------------------------

# One separator character joins two digit groups; '/' and ':' (dates, times) do not.
SEPARATORS = frozenset(" -.+")
HEX = frozenset("0123456789abcdefABCDEF")

# The named exemptions: a Luhn + brand window that is nevertheless not a card.
EXEMPTIONS = (
    # digits glued on either side of the window without a separator: the window is part
    # of a longer number (epoch ns, snowflake, 20+ digit references) — unless a length
    # prefix or a tag says where the card starts (ISO 8583 LLVAR, EMV TLV, track 2).
    "long_id",
    # the window (or its first or last digit group) sits in a token of >= 16 hex characters
    # with letters spread through it (trace / span ids, hashes): letters left after
    # stripping the token's leading and trailing letter blocks. `tok_<PAN>abc` and
    # `<PAN>added` are not hex ids.
    "hex_id",
    # the chain is inside an IBAN (ISO 13616: two letters, two check digits, a BBAN of
    # digits and letters, compact or grouped; mod 97 == 1).
    "iban",
    # `+` at a word start and at most 15 digits: an E.164 phone number (ITU-T E.164).
    "e164_phone",
)

CARD_WORDS = re.compile(
    r"(?i)\b(card|pan|acct|account.?number|maestro|visa|master|amex|cc.?num|ccnum|"
    r"credit|debit|primary.?account|de0*2\b|field.?0*2\b|\bf0*2\b|\bp-?0*2\b)"
)
CONTEXT_WINDOW = 40


@dataclass(frozen=True)
class Finding:
    """A card window: offsets in the original text, its length, brand, and exemption."""

    start: int
    end: int
    length: int
    brand: str
    exemption: str | None = None
    digits: str = field(default="", repr=False, compare=False)


def _chains(norm: str) -> list[list[tuple[int, int]]]:
    """Each chain is a list of digit groups [start, end) in `norm`, joined by one separator."""
    chains: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    i, n = 0, len(norm)
    while i < n:
        if not "0" <= norm[i] <= "9":
            i += 1
            continue
        j = i
        while j < n and "0" <= norm[j] <= "9":
            j += 1
        if current and not (i - current[-1][1] == 1 and norm[i - 1] in SEPARATORS):
            chains.append(current)
            current = []
        current.append((i, j))
        i = j
    if current:
        chains.append(current)
    return chains


def _token(norm: str, start: int, end: int) -> tuple[int, int]:
    a, b = start, end
    while a > 0 and norm[a - 1].isascii() and norm[a - 1].isalnum():
        a -= 1
    while b < len(norm) and norm[b].isascii() and norm[b].isalnum():
        b += 1
    return a, b


def _is_hex_id(token: str) -> bool:
    if len(token) < 16 or not all(c in HEX for c in token):
        return False
    core = token.strip("abcdefABCDEF")
    return any(c.isalpha() for c in core)


_EMV_BEFORE = re.compile(r"(5A|57|9F6B)([0-9A-F]{2})$", re.IGNORECASE)
_TRACK_AFTER = re.compile(r"^[=D][0-9]{7}")
_MTI_BITMAP = re.compile(r"^[0-9]{4}([0-9A-Fa-f]{16})([0-9A-Fa-f]{16})?$")


def _emv_prefix(norm: str, start: int, end: int) -> bool:
    """Tag 5A and a length byte that fits the window (F padding when odd), or tag 57 / 9F6B
    and a length byte, the window followed by the track 2 separator."""
    m = _EMV_BEFORE.search(norm[max(0, start - 6) : start])
    if not m:
        return False
    tag, n, length = m.group(1).upper(), int(m.group(2), 16), end - start
    if tag == "5A":
        return n == (length + 1) // 2 and (length % 2 == 0 or norm[end : end + 1] in "fF")
    return n > (length + 1) // 2 and norm[end : end + 1] in ("D", "d", "=")


def _iso_raw_prefix(norm: str, tok_start: int, start: int, length: int) -> bool:
    """An ISO 8583 message: MTI, bitmap(s) with bit 2 set, then LL and the PAN."""
    head = norm[tok_start : start - 2]
    m = _MTI_BITMAP.match(head)
    if not m or norm[start - 2 : start] != f"{length:02d}":
        return False
    primary = int(m.group(1), 16)
    has_secondary = bool(primary >> 63)
    if has_secondary != (m.group(2) is not None):
        return False
    return bool((primary >> 62) & 1)


_DE2_LABEL = re.compile(
    r"(?i)(?:(?:de|f|field|bit|p)[ _-]?0*2\b|\[0*2\]|llvar|primary account number)"
    r"[^0-9]{0,24}$"
)


def _length_prefixed(norm: str, group: tuple[int, int], start: int, length: int) -> bool:
    """After a field-2 label, the digit group is LL + window or LLL + window (ISO 8583
    LLVAR / LLLVAR: the length says where the PAN starts)."""
    g0, g1 = group
    if start + length != g1 or norm[g0:start] not in (f"{length:02d}", f"{length:03d}"):
        return False
    return bool(_DE2_LABEL.search(norm[max(0, g0 - 48) : g0]))


_IBAN_SHAPE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}")


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text[4:] + text[:4])) % 97


def _iban_spans(norm: str) -> list[tuple[int, int]]:
    """Spans of IBANs (ISO 13616: country, check digits, BBAN; mod 97 == 1), compact or
    grouped by spaces; the longest prefix of the shape that checks is taken."""
    spans = []
    for m in _IBAN_SHAPE.finditer(norm):
        text = m.group()
        for end in range(len(text), 14, -1):
            compact = text[:end].replace(" ", "")
            if 15 <= len(compact) <= 34 and text[end - 1] != " " and _mod97(compact) == 1:
                spans.append((m.start(), m.start() + end))
                break
    return spans


def _phone(norm: str, chain: list[tuple[int, int]]) -> bool:
    """E.164: `+` at a word start, then at most 15 digits."""
    start = chain[0][0]
    digits = sum(b - a for a, b in chain)
    if start < 1 or norm[start - 1] != "+" or digits > 15:
        return False
    return start < 2 or not norm[start - 2].isalnum()


def find_cards(text: str, *, context: bool = False) -> list[Finding]:
    """Every card window of `text`, exempt ones included (with the exemption's name).

    `context`: the text stands under a card-ish key, so 12-digit Maestro numbers count.
    """
    nm = normalise(text)
    norm = nm.text
    found: list[Finding] = []
    ibans = _iban_spans(norm)
    for chain in _chains(norm):
        positions = [p for a, b in chain for p in range(a, b)]
        group_of = {p: g for g in chain for p in range(g[0], g[1])}
        digits = "".join(norm[p] for p in positions)
        iban = any(a <= chain[0][0] and chain[-1][1] <= b for a, b in ibans)
        phone = _phone(norm, chain)
        for i in range(len(positions)):
            for length in range(MIN_LEN, MAX_LEN + 1):
                if i + length > len(positions):
                    break
                window = digits[i : i + length]
                ctx = context
                if length == CONTEXT_ONLY_LEN and not ctx:
                    before = norm[max(0, positions[i] - CONTEXT_WINDOW) : positions[i]]
                    ctx = bool(CARD_WORDS.search(before))
                if not is_pan(window, context=ctx):
                    continue
                s, e = positions[i], positions[i + length - 1] + 1
                group = group_of[s]
                tok = _token(norm, s, e)
                structural = (
                    _emv_prefix(norm, s, e)
                    or _length_prefixed(norm, group, s, length)
                    or (s - tok[0] >= 22 and _iso_raw_prefix(norm, tok[0], s, length))
                    # track 2 (`=` or `D` then YYMM + service code), after nothing or
                    # after an LL / LLL length of the whole track (ISO 8583 field 35)
                    or (bool(_TRACK_AFTER.match(norm[e : e + 8])) and s - group[0] in (0, 2, 3))
                    # track 1 (ISO/IEC 7813): format code B, the PAN, `^`, the name
                    or (norm[e : e + 1] == "^" and norm[s - 1 : s] in ("B", "b"))
                )
                exemption = None
                glued_before = s > group[0]
                glued_after = e < group_of[e - 1][1]
                if (glued_before or glued_after) and not structural:
                    exemption = "long_id"
                # the window's first or last group is the edge of a hex id glued to it
                edges = (_token(norm, s, group[1]), _token(norm, group_of[e - 1][0], e))
                if (
                    exemption is None
                    and not structural
                    and any(_is_hex_id(norm[a:b]) for a, b in (tok, *edges))
                ):
                    exemption = "hex_id"
                if exemption is None and iban:
                    exemption = "iban"
                if exemption is None and phone:
                    exemption = "e164_phone"
                a, b = nm.origin(s, e)
                found.append(
                    Finding(a, b, length, brand_of(window) or "?", exemption, digits=window)
                )
    return found


def cards(text: str, *, context: bool = False) -> list[Finding]:
    """The card windows a redactor must mask (no exemption applies)."""
    return [f for f in find_cards(text, context=context) if f.exemption is None]


def digits_of(text: str) -> str:
    """Every digit a reader can rebuild from `text`, in order (escapes, Unicode undone)."""
    return "".join(c for c in normalise(text).text if c.isascii() and c.isdigit())


def digit_runs(text: str) -> list[str]:
    """Digit runs of the normalised text, separators (` -.+`) dropped, anything else breaks."""
    runs: list[str] = []
    cur: list[str] = []
    for ch in normalise(text).text:
        if ch.isascii() and ch.isdigit():
            cur.append(ch)
        elif ch in SEPARATORS:
            continue
        elif cur:
            runs.append("".join(cur))
            cur = []
    if cur:
        runs.append("".join(cur))
    return runs


# --- sensitive authentication data by label --------------------------------------------------

# Head nouns: a key whose last meaningful words are one of these holds SAD (PCI DSS 3.3.1).
# Written as word tuples after splitting the key (camelCase, `_ - . [ ] space`, digits kept
# with their word: cvv2).
_HEADS = """
cvv, cvv2, cvc, cvc2, cvn, cvn2, cav, cav2, cid, csc, cvd, fsv, cvnum, cv num, cv number,
cvnumber, security code, securitycode, card code, card sec val, cardsecval,
verification value, card verification, card verification code, csc code, cvv code,
card security code, pin, pin block, pinblock, pin data, encrypted pin, pin code, track,
track1, track2, track 1, track 2, track data, track1 data, track2 data, magstripe, mag stripe
"""
SAD_HEADS: tuple[tuple[str, ...], ...] = tuple(
    tuple(h.split()) for h in _HEADS.replace("\n", " ").split(",")
)
# Words that may follow a head without changing what the field holds.
NEUTRAL_TAIL = frozenset({"value", "data", "number", "num", "no", "raw_value", "enc", "hex"})
# Words that make the field a statement *about* the SAD, not the SAD (issue 13 item 11).
_QUALIFIERS = """
    check checks result results response verification verified indicator status required
    present presence count attempts attempt policy length len match supported enabled entry
    mode capability tries retries raw provided type format error errors changed set reset
    valid validated validation outcome action rule rules"""
QUALIFIERS = frozenset(_QUALIFIERS.split())
# Whole labels that are SAD by name although their words are generic (ISO 8583 / EMV).
SAD_FIELD_IDS = frozenset({"35", "45", "52"})

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")


@cache
def label_words(label: str) -> tuple[str, ...]:
    """`card[cvc]` -> (card, cvc); `cvcResultRaw` -> (cvc, result, raw); `CVV2` -> (cvv2)."""
    text = normalise(label).text
    words: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", text):
        words.extend(w.lower() for w in _CAMEL.findall(part))
    return tuple(words)


def _heads_at(words: tuple[str, ...]) -> list[tuple[int, int]]:
    out = []
    for i in range(len(words)):
        for head in SAD_HEADS:
            if words[i : i + len(head)] == head:
                out.append((i, i + len(head)))
    return out


@cache
def is_sad_label(label: str) -> bool:
    """The head-noun rule: a SAD name is the label's head (its last words, maybe followed by
    value / data / number), and no qualifier (check, result, ...) follows it."""
    words = label_words(label)
    if not words:
        return False
    heads = _heads_at(words)
    if not heads:
        return False
    for _, end in sorted(heads, key=lambda h: h[1], reverse=True):
        tail = words[end:]
        if any(w in QUALIFIERS for w in tail):
            continue
        if all(w in NEUTRAL_TAIL or w.isdigit() for w in tail):
            return True
    return False


# label then value in the syntaxes logs write: JSON, form / logfmt, XML element,
# XML attribute pair, "Label: value" text.
_JSON_PAIR = re.compile(r'"([^"\\]{1,60})"\s*:\s*(?:"([^"\\]*)"|(-?[0-9][0-9A-Fa-f]*))')
_FORM_PAIR = re.compile(r"(?:^|[\s&?;,{(])([A-Za-z][A-Za-z0-9_.\[\]-]{0,60})=([^&\s;,\"'<>]+)")
_XML_ELEM = re.compile(r"<([A-Za-z][A-Za-z0-9_:.-]{0,60})[^>]*>([^<]+)</\1>")
_XML_FIELD = re.compile(
    r"<field\b[^>]*\bid=\"0*([0-9]{1,3})\"[^>]*\bvalue=\"([^\"]*)\"", re.IGNORECASE
)
_TEXT_PAIR = re.compile(
    r"(?:^|[\s,;(\[{|])([A-Za-z][A-Za-z0-9 _-]{0,30}?)\s*[:=]\s*([0-9A-Fa-f*]{3,40})(?![0-9A-Za-z])"
)
_ISO_LABEL = re.compile(r"(?i)^(?:de|f|field|bit|p)?[ _-]?0*([0-9]{1,3})(?:[ _-]?llvar)?$")


def _label_is_sad(label: str) -> bool:
    if is_sad_label(label):
        return True
    m = _ISO_LABEL.match(label.strip())
    return bool(m and m.group(1) in SAD_FIELD_IDS)


@dataclass(frozen=True)
class SadFinding:
    syntax: str
    start: int
    end: int


def find_sad(text: str) -> list[SadFinding]:
    """Labelled SAD values in text (offsets into the normalised text)."""
    norm = normalise(text).text
    out: list[SadFinding] = []
    for syntax, pattern in (
        ("json", _JSON_PAIR),
        ("form", _FORM_PAIR),
        ("xml", _XML_ELEM),
        ("text", _TEXT_PAIR),
    ):
        for m in pattern.finditer(norm):
            value = m.group(2) if m.group(2) is not None else m.group(3)
            if value and _label_is_sad(m.group(1)):
                vs = m.start(2) if m.group(2) is not None else m.start(3)
                out.append(SadFinding(syntax, vs, vs + len(value)))
    for m in _XML_FIELD.finditer(norm):
        if m.group(1).lstrip("0") in SAD_FIELD_IDS:
            out.append(SadFinding("xml_field", m.start(2), m.end(2)))
    return out
