"""Where card data is in a piece of text: the one detector every path asks.

It reads the normalised text (normalize.py: escapes, URL encoding, entities and Unicode
digits and spaces decoded) and reports findings, each a span and what to do with it;
text.py writes the replacements. The rules, all from tables (cards.py, keys.py):

- **Chains** (bare PANs): digits in groups of any sizes joined by at most `MAX_GAP`
  characters of `SEPARATORS`. Every window of consecutive whole groups holding 12-19
  digits is tested for brand, length and Luhn (12 digits only with a card word near or
  under a card-ish key); every window that is a card is masked (overlapping ones as
  one). Exempt, by name (`EXEMPTIONS`): a group longer than 19 digits (`long_run`:
  snowflake ids, epoch ns, ICCIDs glued to more digits); a group inside a hex id
  (`hex_id`: an all-hex token of 16+ characters with hex letters on both sides of the
  group and inside the token, not only at its ends: trace ids, span ids, hashes); a
  group inside a UUID (`uuid`); a group inside an IBAN whose mod-97 check holds
  (`iban`); `+` at a word start and at most 15 digits (`e164_phone`).
- **Structure** decides glued digits: an ISO 8583 LLVAR length equal to the digits that
  follow (`DE002=16…`), an ISO 8583 message (MTI, bitmap, field 2), an EMV TLV tag and
  length (`5A` PAN, `57` / `9F6B` track 2 equivalent, `56` track 1), a track separator
  (`^` for track 1; `=` or `D` and seven digits for track 2, also after a masked PAN).
- **Labels**: a SAD, PAN or expiry name (keys.py, with its qualifier rule) written in the
  text as a key (`cvv=`, `"cvv":"`, `\\"cvv\\":`, `card[cvc]=`, `<cardCode>`, `CVV: `,
  `PIN Data: `, `securityCode: {"value": …}`) or an ISO 8583 field label (`DE052=`,
  `52: `, `<field id="52" value="…"/>`); the value after it is the finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from collector.redact.cards import (
    FIRST_DIGITS,
    MAX_GAP,
    MAX_LENGTH,
    MIN_LENGTH,
    SEPARATORS,
    is_pan,
    lengths_for,
    luhn_ok,
)
from collector.redact.keys import (
    CARD_WORD,
    ISO_FIELD_KEY,
    KeyClassifier,
    KeyKind,
    names_pattern,
    qualified,
)
from collector.redact.scan import Reason

# What a finding asks for: a PAN's digits masked, a value removed, an expiry masked.
PAN = "pan"
SAD = "sad_key"
TRACK = "track"
EXPIRY = "expiry"

EXEMPTIONS = ("long_run", "hex_id", "uuid", "iban", "e164_phone")

FLAGS = re.ASCII | re.MULTILINE
_SEP_CLASS = "[" + re.escape(SEPARATORS) + "]"
_CHAIN = re.compile(rf"[0-9]+(?:{_SEP_CLASS}{{1,{MAX_GAP}}}[0-9]+)*", FLAGS)
# The same chains, only those holding 12 digits or more (leftmost and greedy, a match is a
# whole chain): the regex engine skips the short ones without a Python step each.
_LONG_CHAIN = re.compile(rf"[0-9](?:{_SEP_CLASS}{{0,{MAX_GAP}}}[0-9]){{{MIN_LENGTH - 1},}}", FLAGS)
_GROUP = re.compile(r"[0-9]+", FLAGS)
_NON_DIGIT = re.compile(r"[^0-9]+", FLAGS)
_CONTEXT_CHARS = 32
_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_LETTERS = frozenset("abcdefABCDEF")
_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX_ID_MIN = 16
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}", FLAGS)

_TRACK1 = re.compile(
    r"%?[Bb]?[0-9*Xx#]{12,19}\^[^^\r\n]{0,30}\^[0-9]{4}[^\s\"'&,;<>\\?|]*\??", FLAGS
)
_TRACK2 = re.compile(r";?([0-9*Xx#]{12,})([=Dd])([0-9]{7,})[Ff]?\??", FLAGS)
_MASKED = frozenset("*Xx#")
_ISO_MSG = re.compile(r"(?<![0-9A-Fa-f])[0-9]{4}([0-9A-Fa-f]{16})([0-9A-Fa-f]{16})?", FLAGS)
_HEX_REGION = re.compile(r"[0-9A-Fa-f]{2}(?:[ :]?[0-9A-Fa-f]{2}){5,}", FLAGS)
_EMV_TAGS = ("5A", "57", "9F6B", "56")
_EMV_TAG_AT = re.compile("(?=(" + "|".join(_EMV_TAGS) + "))")
# a tag in a hex region of the text, in either case, a space or colon between any two of
# its nibbles (a spaced dump read at either alignment)
_EMV_TAG_IN = re.compile(r"5[ :]?[Aa76]|9[ :]?[Ff][ :]?6[ :]?[Bb]")
_EMV_GUARDS = ("5A", "5a", "57", "56", "9F", "9f")  # a tag's first byte, dumps spaced or not
_ISO_LABEL = re.compile(
    r"(?:(?<![A-Za-z])(?:DE|F|FLD|FIELD|BIT|P)[ _\-.#\[]{0,2}0{0,2}(?P<a>2|35|45|52)(?![0-9])"
    r"|(?<![A-Za-z])L{2,3}VAR(?P<e>)(?=[^0-9A-Za-z\n]{0,4}[0-9])"
    r"|<field\s+id=\\*[\"'](?P<b>0{0,2}(?:2|35|45|52))\\*[\"']\s*value="
    r"|(?<![0-9A-Za-z.])(?<![0-9]:)\[?0{0,2}(?P<c>52)\]?(?=\\*[\"']?\s*[:=])"
    r"|\[0{0,2}(?P<d>2|35|45|52)\])",
    FLAGS | re.IGNORECASE,
)
_ISO_VALUE_LEAD = re.compile(
    r"\\*[\"']?[^0-9A-Za-z\n]{0,8}(?:L{1,3}VAR[^0-9A-Za-z\n]{0,4})?"
    r"(?:\[(?P<len>[0-9]{2,3})\][ \t]*)?",
    FLAGS | re.IGNORECASE,
)
_ISO_TOKEN = re.compile(r"[^\s\"'<>,;|\\]+", FLAGS)
_DIGIT_TOKEN = re.compile(r"[0-9]+", FLAGS)
_LABEL_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.-[]")
_WORD_AFTER = re.compile(
    r"(?: [A-Za-z][A-Za-z0-9_]*){1,2}(?=\\*[\"']?[ \t]*(?:[:=]|\.{2,}))", FLAGS
)
_LEADER = re.compile(r"\.{2,}[ \t]*(?:\[[0-9]{1,3}\][ \t]*)?", FLAGS)
_BARE_VALUE = re.compile(r"[0-9]+(?:/[0-9]+)?(?![0-9A-Za-z])", FLAGS)
_UNQUOTED = re.compile(r"[^\s\"'`&,;<>\\)\]}|\u00ab\u00bb\u201c\u201d\u2018\u2019]+", FLAGS)
_SPACES = " \t"
_NOT_VALUES = frozenset(("true", "false", "null", "none", "nil", ""))
_DATE = re.compile(
    r"(?:0?[1-9]|1[0-2])(?:[ ]?[/\-.][ ]?)?(?:[0-9]{2}|(?:19|20)[0-9]{2})"
    r"|(?:19|20)[0-9]{2}(?:[ ]?[/\-.][ ]?)?(?:0?[1-9]|1[0-2])"
    r"|[0-9]{2}(?:0[1-9]|1[0-2])"
    r"|(?:0?[1-9]|1[0-2])"
    r"|(?:19|20)?[0-9]{2}",
    FLAGS,
)
_PAN_VALUE_SEPS = re.compile(_SEP_CLASS, FLAGS)


class Finding(NamedTuple):
    """A span of the normalised text and what it holds (`PAN`, `SAD`, `TRACK`, `EXPIRY`).
    `digits` are a PAN's own digits, which its mask is computed on."""

    start: int
    end: int
    kind: str
    digits: str = ""


def is_date(value: str) -> bool:
    """Whether an expiry field's value is shaped like a date (`12/27`, `2030`, `8/2018`)."""
    return _DATE.fullmatch(value.strip()) is not None


def pan_value_digits(value: str, llvar: bool = True) -> str | None:
    """The card number a PAN-labelled value holds, whatever its checksum: 12-19 digits with
    separators, or (`llvar`: an ISO 8583 field 2) an LLVAR (`16` + 16 digits); None
    otherwise."""
    digits = _PAN_VALUE_SEPS.sub("", value.strip())
    if not digits.isdigit() or not digits.isascii():
        return None
    # the length says where the PAN starts; trusted when what follows is a card (a
    # non-card value that happens to open with its length is masked whole instead)
    if (
        llvar
        and len(digits) >= MIN_LENGTH + 2
        and int(digits[:2]) == len(digits) - 2
        and (is_pan(digits[2:], card_context=True) or len(digits) > MAX_LENGTH)
    ):
        return digits[2:] if int(digits[:2]) <= MAX_LENGTH else None
    return digits if MIN_LENGTH <= len(digits) <= MAX_LENGTH else None


def iso_llvar_pan(run: str) -> int:
    """Offset of the PAN in an ISO 8583 LLVAR field (`16` + 16 digits), or -1."""
    if len(run) >= 14 and run[:2].isdigit() and int(run[:2]) == len(run) - 2 and is_pan(run[2:]):
        return 2
    return -1


class Detector:
    """Finds card data in normalised text; see the module doc for the rules."""

    def __init__(self, keys: KeyClassifier, label_names: Iterable[str]) -> None:
        self._keys = keys
        self._label = re.compile(names_pattern(label_names), FLAGS)

    def find(
        self,
        text: str,
        card_context: bool = False,
        exempt: list[tuple[str, int, int]] | None = None,
        rules: int = Reason.ALL,
        regions: list[tuple[int, int]] | None = None,
        windows: list[tuple[int, int, int, int, int]] | None = None,
        names: list[int] | None = None,
    ) -> list[Finding]:
        """Every finding in `text`, overlapping ones included (text.py resolves them).
        `exempt`, when given, collects (exemption name, start, end) of the digit groups
        an exemption kept out of the card windows. `rules`: the C pre-scan's reasons for
        this text (`Prefilter.reasons`, wider than these rules): a rule it did not see
        cannot find anything here and is not run. `regions`: where chains can hold cards
        (`Prefilter.card_spans`), else everywhere. For plain ASCII text the C can say
        more (`Prefilter.findings`): `windows`, the card windows of its chains (then only
        the exemptions and the 12-digit context are judged here), and `names`, where a
        label name can begin (then the label pattern is tried only there)."""
        found: list[Finding] = []
        if rules & Reason.TRACK1 and "^" in text:
            found.extend(self._tracks1(text))
        if rules & Reason.TRACK2:
            found.extend(self._tracks2(text))
        if rules & (Reason.EMV | Reason.TRACK2):
            found.extend(self._emv(text))
        if rules & Reason.ISO_MESSAGE:
            found.extend(self._iso_message(text))
        if rules & (Reason.LLVAR | Reason.ISO_LABEL | Reason.TRACK1 | Reason.TRACK2):
            found.extend(self._iso_labels(text))
        if rules & Reason.NAME:
            found.extend(self._labels(text, names))
        if rules & Reason.CARD:
            if windows is not None and exempt is None:
                found.extend(self._windowed(text, card_context, windows))
            else:
                found.extend(self.chains(text, card_context, exempt, regions))
        return found

    # --- bare PANs in chains of digit groups -------------------------------------------
    def chains(
        self,
        text: str,
        card_context: bool,
        exempt: list[tuple[str, int, int]] | None = None,
        regions: list[tuple[int, int]] | None = None,
    ) -> list[Finding]:
        """Cards in chains of digit groups. `regions`: where to look (the C's
        `card_spans`, chains holding a card window by its wider rules), else everywhere."""
        out: list[Finding] = []
        for lo, hi in regions if regions is not None else [(0, len(text))]:
            for m in _LONG_CHAIN.finditer(text, lo, hi):
                out.extend(self._one_chain(text, m.start(), m.end(), card_context, exempt))
        return out

    def _one_chain(
        self,
        text: str,
        base: int,
        end: int,
        card_context: bool,
        exempt: list[tuple[str, int, int]] | None,
    ) -> list[Finding]:
        """The cards of the chain text[base:end], every exemption judged."""
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, base, end)]
        if _phone(text, groups):
            if exempt is not None:
                exempt.extend(("e164_phone", s, e) for s, e in groups)
            return []
        found = self._chain(text, groups, card_context, exempt, "-" in text[base:end], [])
        if found:
            # an IBAN holding this chain opens at most 34 characters before it
            ibans = _iban_spans(text, max(0, base - 34), end + 1)
            if ibans:  # rare: again, with the IBAN's groups exempt
                found = self._chain(text, groups, card_context, exempt, False, ibans)
        return found

    def _windowed(
        self, text: str, card_context: bool, windows: list[tuple[int, int, int, int, int]]
    ) -> list[Finding]:
        """`chains` from the C's card windows (`Prefilter.findings`: brand, length and Luhn
        of every window of whole groups, the `long_run` and `hex_id` groups left out, as
        `_windows` does). What needs context is judged here, as `_one_chain` does: an
        E.164 phone, the 12-digit windows' card word; a chain with a dash (`uuid`) or
        inside an IBAN goes through `_one_chain` whole."""
        out: list[Finding] = []
        chain = base_prev = end_prev = -1
        found: list[Finding] = []
        skip = iban = False
        for start, end, base, chain_end, units in windows:
            if base != chain:
                if found and iban and _iban_spans(text, max(0, base_prev - 34), end_prev + 1):
                    found = self._one_chain(text, base_prev, end_prev, card_context, None)
                out.extend(found)
                found = []
                chain, base_prev, end_prev = base, base, chain_end
                # An IBAN holding a group of the chain holds the character before it
                # (the chain has no letters, an IBAN opens with two): a capital, or a
                # space after a capital (a digit there would be in the chain).
                before = text[max(0, base - 2) : base]
                iban = before[-1:].isupper() or (before[-1:] == " " and before[:1].isupper())
                # `_phone`, on the chain's first group and its digits
                skip = (
                    units <= 15
                    and base >= 1
                    and text[base - 1] == "+"
                    and (base < 2 or text[base - 2] not in _ALNUM)
                )
                if not skip and "-" in text[base:chain_end]:
                    out.extend(self._one_chain(text, base, chain_end, card_context, None))
                    skip = True
            if skip:
                continue
            digits = text[start:end]
            if not digits.isdigit():
                digits = _NON_DIGIT.sub("", digits)
            if (
                len(digits) == MIN_LENGTH
                and not card_context
                and CARD_WORD.search(text, max(0, start - _CONTEXT_CHARS), start) is None
            ):
                continue
            found.append(Finding(start, end, PAN, digits))
        if found and iban and _iban_spans(text, max(0, base_prev - 34), end_prev + 1):
            found = self._one_chain(text, base_prev, end_prev, card_context, None)
        out.extend(found)
        return out

    def _chain(
        self,
        text: str,
        groups: list[tuple[int, int]],
        card_context: bool,
        exempt: list[tuple[str, int, int]] | None,
        dashed: bool,
        ibans: list[tuple[int, int]],
    ) -> list[Finding]:
        """The cards of one chain, its exempt groups splitting it."""
        out: list[Finding] = []
        run: list[tuple[int, int]] = []
        for s, e in groups:
            why = _exemption(text, s, e, dashed)
            if why is None and any(a <= s and e <= b for a, b in ibans):
                why = "iban"
            if why is None:
                run.append((s, e))
                continue
            if exempt is not None:
                exempt.append((why, s, e))
            out.extend(self._windows(text, run, card_context))
            run = []
        out.extend(self._windows(text, run, card_context))
        return out

    @staticmethod
    def _windows(text: str, groups: list[tuple[int, int]], card_context: bool) -> list[Finding]:
        """Every card among consecutive whole groups (overlapping ones are merged by the
        caller: two cards in one chain both go, whatever a window across them reads as).
        Luhn runs only on windows of a length a brand issues for their first digits."""
        out: list[Finding] = []
        if sum(e - s for s, e in groups) < MIN_LENGTH:
            return out
        for i in range(len(groups)):
            start = groups[i][0]
            if text[start] not in FIRST_DIGITS:
                continue
            digits = ""
            ends: list[tuple[int, int]] = []  # (digits so far, end offset) at each group end
            for s, e in groups[i:]:
                digits += text[s:e]
                if len(digits) > MAX_LENGTH:
                    break
                ends.append((len(digits), e))
            lengths = lengths_for(digits)
            context: bool | None = True if card_context else None
            for n, end in ends:
                if n < MIN_LENGTH or n not in lengths:
                    continue
                if n == MIN_LENGTH:
                    if context is None:
                        context = (
                            CARD_WORD.search(text, max(0, start - _CONTEXT_CHARS), start)
                            is not None
                        )
                    if not context:
                        continue
                if luhn_ok(digits[:n]):
                    out.append(Finding(start, end, PAN, digits[:n]))
        return out

    # --- tracks --------------------------------------------------------------------------
    @staticmethod
    def _tracks1(text: str) -> list[Finding]:
        return [Finding(m.start(), m.end(), TRACK) for m in _TRACK1.finditer(text)]

    @staticmethod
    def _tracks2(text: str) -> list[Finding]:
        out: list[Finding] = []
        for m in _TRACK2.finditer(text):
            run, sep = m.group(1), m.group(2)
            masked = any(c in _MASKED for c in run)
            start = -1
            if sep == "=" and len(run) <= MAX_LENGTH and run[-4:].isdigit():
                start = m.start(1)  # a track 2 shape: removed even if not Luhn-valid
            elif masked:
                if sep == "=" and len(run) <= MAX_LENGTH and run[:1].isdigit():
                    start = m.start(1)  # a masked PAN's track: the rest is SAD on its own
            else:
                # Inside a dump the PAN ends at the separator; find the card that fits.
                for k in range(min(MAX_LENGTH, len(run)), 11, -1):
                    if is_pan(run[-k:], card_context=True):
                        start = m.end(1) - k
                        break
            if start < 0:
                continue
            if start > 0 and text[start - 1] == ";":
                start -= 1
            out.append(Finding(start, m.end(), TRACK))
        return out

    # --- EMV TLV in hex dumps --------------------------------------------------------------
    @staticmethod
    def _emv(text: str) -> list[Finding]:
        if not any(tag in text for tag in _EMV_GUARDS):
            return []
        out: list[Finding] = []
        for region in _HEX_REGION.finditer(text):
            if not _EMV_TAG_IN.search(region.group()):
                continue  # no tag in it (trace ids, hashes): nothing to read
            where = [i for i in range(region.start(), region.end()) if text[i] in _HEX]
            nibbles = "".join(text[i] for i in where).upper()
            for align in (0, 1):
                out.extend(_tlv_findings(nibbles, where, align))
        return out

    # --- ISO 8583 ----------------------------------------------------------------------------
    @staticmethod
    def _iso_message(text: str) -> list[Finding]:
        out: list[Finding] = []
        for m in _ISO_MSG.finditer(text):
            first = int(m.group(1)[0], 16)
            if not first & 0x4:  # field 2 absent
                continue
            pos = m.end(2) if (first & 0x8 and m.group(2)) else m.end(1)
            ll = text[pos : pos + 2]
            if not ll.isdigit():
                continue
            pan = text[pos + 2 : pos + 2 + int(ll)]
            if len(pan) == int(ll) and pan.isdigit() and is_pan(pan, card_context=True):
                out.append(Finding(pos + 2, pos + 2 + len(pan), PAN, pan))
        return out

    @staticmethod
    def _iso_labels(text: str) -> list[Finding]:
        out: list[Finding] = []
        for m in _ISO_LABEL.finditer(text):
            number = m.group("a") or m.group("b") or m.group("c") or m.group("d")
            field = int(number) if number else 2  # a bare LLVAR: the PAN's own layout
            lead = _ISO_VALUE_LEAD.match(text, m.end())
            pos = lead.end() if lead is not None else m.end()
            token = _ISO_TOKEN.match(text, pos)
            if token is None:
                continue
            value = token.group()
            if field == 2:
                digits = _DIGIT_TOKEN.match(value)
                if digits is None:
                    continue
                run = digits.group()
                pan = pan_value_digits(run)
                if pan is not None:
                    end = pos + len(run)
                    out.append(Finding(end - len(pan), end, PAN, pan))
            elif field == 52:
                hexes = re.match(r"[0-9A-Fa-f]{16}(?:[0-9A-Fa-f]{16})?(?![0-9A-Za-z])", value)
                if hexes is not None:
                    out.append(Finding(pos, pos + hexes.end(), SAD))
            elif any(c.isdigit() for c in value) and len(value) >= MIN_LENGTH:
                out.append(Finding(pos, token.end(), TRACK))
        return out

    # --- labels: key = value written inside text ----------------------------------------------
    def _labels(self, text: str, starts: list[int] | None = None) -> list[Finding]:
        out: list[Finding] = []
        for m in self._label.finditer(text) if starts is None else self._label_at(text, starts):
            start, end = m.start(), m.end()
            while start > 0 and text[start - 1] in _LABEL_CHARS:
                start -= 1
            while end < len(text) and text[end] in _LABEL_CHARS:
                end += 1
            xml = start > 0 and text[start - 1] == "<"
            spans: list[tuple[int, int]] = []
            kind = self._keys.kind(text[start:end])
            if kind not in (KeyKind.NONE, KeyKind.CARDISH):
                spans = _values_after(text, end, xml, kind != KeyKind.PAN)
            more = _WORD_AFTER.match(text, end)
            if not spans and more is not None:  # `PIN Data: …`, `Security Code: …`
                kind = self._keys.kind(text[start : more.end()])
                if kind not in (KeyKind.NONE, KeyKind.CARDISH):
                    spans = _values_after(text, more.end(), False, kind != KeyKind.PAN)
            iso = ISO_FIELD_KEY.fullmatch(text[start:end]) is not None
            for vs, ve in spans:
                finding = _label_finding(text, vs, ve, kind, iso)
                if finding is not None:
                    out.append(finding)
        return out

    def _label_at(self, text: str, starts: list[int]) -> Iterator[re.Match[str]]:
        """What `self._label.finditer(text)` yields, trying the pattern only at `starts`
        (every place it can match, and more: the C's name rule, `Prefilter.findings`)."""
        match = self._label.match
        last = 0
        for at in starts:
            if at < last:
                continue
            m = match(text, at)
            if m is not None:
                last = m.end()
                yield m


def _exemption(text: str, start: int, end: int, dashed: bool) -> str | None:
    """Which named exemption keeps the digit group text[start:end] out of card windows."""
    if end - start > MAX_LENGTH:
        return "long_run"
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if before in _HEX_LETTERS and after in _HEX_LETTERS:
        lo, hi = start, end
        while lo > 0 and text[lo - 1] in _ALNUM:
            lo -= 1
        while hi < len(text) and text[hi] in _ALNUM:
            hi += 1
        token = text[lo:hi]
        # letters spread through it: some left once its outer letter blocks are stripped
        # (`ab<PAN>cd` is a PAN between letters, not an id)
        core = token.strip("abcdefABCDEF")
        if len(token) >= _HEX_ID_MIN and all(c in _HEX for c in token) and not core.isdigit():
            return "hex_id"
    if dashed and (before == "-" or after == "-"):
        for m in _UUID.finditer(text, max(0, start - 36), min(len(text), end + 36)):
            if m.start() <= start and end <= m.end():
                return "uuid"
    return None


def _phone(text: str, groups: list[tuple[int, int]]) -> bool:
    """An E.164 phone number (ITU-T E.164): `+` at a word start, then at most 15 digits
    (`+4915112345678`, `+44 20 7946 0958`). A 13-15 digit card written right after a `+`
    at a word start is taken for a phone: named, documented, counted by the tests."""
    start = groups[0][0]
    if start < 1 or text[start - 1] != "+" or sum(e - s for s, e in groups) > 15:
        return False
    return start < 2 or text[start - 2] not in _ALNUM


def _iban_spans(text: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """IBANs (ISO 13616: country, check digits, BBAN; mod 97 == 1), compact or grouped by
    spaces, opening in text[lo:hi]: their digits are an account, not a card, whatever a
    window of them reads as."""
    spans = []
    # an IBAN opening before `hi` ends within 64 characters (4 + 30 spaced): the engine
    # need not read the rest of the text
    for m in _IBAN.finditer(text, lo, len(text) if hi is None else hi + 64):
        if hi is not None and m.start() >= hi:
            break
        found = m.group()
        length = IBAN_LENGTHS.get(found[:2].upper())
        if length is None:  # not a country that issues IBANs: `TX4111…` is no account
            continue
        for end in range(len(found), 14, -1):
            compact = found[:end].replace(" ", "")
            if found[end - 1] != " " and len(compact) == length and _mod97(compact) == 1:
                spans.append((m.start(), m.start() + end))
                break
    return spans


# ISO 13616 (SWIFT's IBAN registry): each country's IBAN has one length. Without it, any
# card glued after two capitals had a one-in-five chance that some prefix of it passed
# mod 97 and was exempted as an account.
IBAN_LENGTHS = {
    country: int(length)
    for country, length in re.findall(
        r"([A-Z]{2}):(\d+)",
        "AD:24 AE:23 AL:28 AT:20 AZ:28 BA:20 BE:16 BG:22 BH:22 BI:27 BR:29 BY:28 CH:21 "
        "CR:22 CY:28 CZ:24 DE:22 DJ:27 DK:18 DO:28 EE:20 EG:29 ES:24 FI:18 FK:18 FO:18 "
        "FR:27 GB:22 GE:22 GI:23 GL:18 GR:27 GT:28 HR:21 HU:28 IE:22 IL:23 IQ:23 IS:26 "
        "IT:27 JO:30 KW:30 KZ:20 LB:28 LC:32 LI:21 LT:20 LU:20 LV:21 LY:25 MC:27 MD:24 "
        "ME:22 MK:19 MN:20 MR:27 MT:31 MU:30 NI:28 NL:18 NO:15 OM:23 PK:24 PL:28 PS:29 "
        "PT:25 QA:29 RO:24 RS:22 RU:33 SA:24 SC:31 SD:18 SE:24 SI:19 SK:24 SM:27 SO:23 "
        "ST:25 SV:28 TL:23 TN:24 TR:26 UA:29 VA:22 VG:24 XK:20 YE:30",
    )
}


def _mod97(iban: str) -> int:
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97


def _tlv_findings(nibbles: str, where: list[int], align: int) -> list[Finding]:
    """EMV TLV tags with card data in a hex region (each nibble's offset in `where`)."""
    out: list[Finding] = []
    n = len(nibbles)
    # every byte-aligned place a tag starts, in order (what a walk over each byte finds)
    for m in _EMV_TAG_AT.finditer(nibbles, align):
        at = m.start()
        if at >= n - 5:
            break
        if (at - align) % 2:
            continue
        tag = m.group(1)
        lpos = at + len(tag)
        length = int(nibbles[lpos : lpos + 2], 16) * 2
        vstart = lpos + 2
        value = nibbles[vstart : vstart + length]
        if length == 0 or len(value) < min(length, 2 * MIN_LENGTH):
            continue  # a dump cut short still holds its PAN and separator
        if tag == "5A":
            digits = value.rstrip("F")
            if digits.isdigit() and MIN_LENGTH <= len(digits) <= MAX_LENGTH:
                end = vstart + len(digits)
                out.append(Finding(where[vstart], where[end - 1] + 1, PAN, digits))
        elif tag in ("57", "9F6B"):
            pan, sep, rest = value.partition("D")
            tail = rest.rstrip("F")
            pan_ok = sep and pan.isdigit() and MIN_LENGTH <= len(pan) <= MAX_LENGTH
            if pan_ok and (tail.isdigit() or not tail):
                out.append(Finding(where[vstart], where[vstart + len(value) - 1] + 1, TRACK))
        else:  # 56: track 1 equivalent, ASCII "B<PAN>^..." in hex
            if value.startswith("42") and "5E" in value:
                out.append(Finding(where[vstart], where[vstart + len(value) - 1] + 1, TRACK))
    return out


def _values_after(text: str, pos: int, xml: bool, bare: bool) -> list[tuple[int, int]]:
    """Spans of the value(s) written after a label ending at `pos`: `=v`, `: v`, `":"v"`,
    `\\":\\"v\\"`, `=> v`, `>v<` (XML), `{"value": v}`, `[v, v]`, and (`bare`) a number
    after a space: `CVV 123`, `exp 12/27`."""
    n = len(text)
    i = pos
    while i < n and text[i] == "\\":
        i += 1
    if i < n and text[i] in "\"'":
        i += 1
    blanks = i
    while i < n and text[i] in _SPACES:
        i += 1
    leader = _LEADER.match(text, i) if i > blanks else None
    if leader is not None:  # `PIN Data ........ 1A2B…` (ISO 8583 text dumps)
        i = leader.end()
    elif text.startswith("=>", i) or text.startswith(":=", i):
        i += 2
    elif i < n and text[i] in ":=#":
        i += 1
    elif bare and i > blanks and (text.startswith("- ", i) or text.startswith("is ", i)):
        i += 1 if text[i] == "-" else 2  # `cvn - 123`, `Security code is 123`
        while i < n and text[i] in _SPACES:
            i += 1
        m = _BARE_VALUE.match(text, i)
        return [(i, m.end())] if m is not None and 3 <= m.end() - i <= 19 else []
    elif xml and i < n and text[i] == ">":
        end = text.find("<", i + 1)
        return [(i + 1, n if end < 0 else end)]
    elif bare and i > blanks and i < n and text[i].isdigit():
        m = _BARE_VALUE.match(text, i)
        return [(i, m.end())] if m is not None and 3 <= m.end() - i <= 19 else []
    else:
        return []
    while i < n and text[i] in _SPACES:
        i += 1
    if i < n and text[i] == "{":
        colon = text.find(":", i, i + 40)
        if colon < 0 or qualified(text[i + 1 : colon]):
            return []  # `"cardVerification": {"resultCode": "M"}`: a result, kept
        return _values_after(text, colon, False, False)
    if i < n and text[i] == "[":
        close = text.find("]", i)
        if close < 0:
            return []
        spans = []
        for item in re.finditer(r"[^,\[\]\s]+", text[i + 1 : close]):
            s, e = i + 1 + item.start(), i + 1 + item.end()
            while s < e and text[s] in "\\\"'":
                s += 1
            while e > s and text[e - 1] in "\\\"'":
                e -= 1
            spans.append((s, e))
        return spans
    j = i
    while j < n and text[j] == "\\":
        j += 1
    if j < n and text[j] in "\"'":
        quote = text[j]
        start = j + 1
        end = text.find(quote, start)
        if end < 0:
            end = n
        while end > start and text[end - 1] == "\\":
            end -= 1
        return [(start, end)]
    m = _UNQUOTED.match(text, i)
    return [(i, m.end())] if m is not None else []


def _label_finding(text: str, start: int, end: int, kind: int, iso: bool) -> Finding | None:
    value = text[start:end]
    if kind == KeyKind.SAD:
        if value.strip().lower() in _NOT_VALUES:
            return None
        return Finding(start, end, SAD)
    if kind == KeyKind.PAN:
        chain = _CHAIN.match(text, start, end)  # `card_number=4111….gateway`: the digits
        if chain is None:
            return None
        end = chain.end()
        value = chain.group()
        pan = pan_value_digits(value, iso)
        if pan is None:
            return None
        if value.isdigit() and len(value) == len(pan) + 2:
            start += 2  # the LLVAR length stays: it is structure, not the PAN
        return Finding(start, end, PAN, pan)
    if kind == KeyKind.EXPIRY and is_date(value):
        return Finding(start, end, EXPIRY)
    return None
