"""The careful pass over one string: every form of card data we know, replaced in place.

Passes run in a fixed order, each on the output of the one before: track data first (it
holds a PAN, and the whole track must go, not only its PAN), then the payment-message
dumps (EMV TLV, ISO 8583), then sensitive `key=value` pairs written inside text (query
strings, form and XML bodies, JSON inside a string), then bare PANs, then the operator's
custom rules. A string is only worked on when `trigger` matches it; the pre-scan runs the
same trigger over raw lines, so the two agree by construction on what may need work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from collector.redact.cards import MAX_LENGTH, MIN_LENGTH, is_pan
from collector.redact.keys import CARD_WORD, names_pattern
from collector.redact.patterns import DIGIT, SEP, Matcher
from collector.redact.scan import Reason, compile_engine, flagged_lines

REDACTED = "[REDACTED]"
FLAGS = re.ASCII | re.MULTILINE

# A candidate never starts on a digit that belongs to an escape (%20, \u0020, \x20).
_NOT_IN_ESCAPE = (
    r"(?!(?<=%)[23][0-9A-Fa-f])(?<!%2)(?<!%3)"
    r"(?<!\\u)(?<!\\u0)(?<!\\u00)(?<!\\u00[0-9A-Fa-f])(?<!\\x)(?<!\\x[0-9A-Fa-f])"
)
_CANDIDATE = re.compile(f"{_NOT_IN_ESCAPE}{DIGIT}(?:{SEP}?{DIGIT}){{11,}}", FLAGS)
# The same candidates when the text holds no escapes (the common case), without the
# look-behinds that keep the engine from skipping ahead to the next digit.
_CANDIDATE_PLAIN = re.compile(r"[0-9](?:[ .+\-]?[0-9]){11,}", FLAGS)
_TWELVE_DIGITS = re.compile(r"[0-9]{12}", FLAGS)
_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_LETTERS = frozenset("abcdefABCDEF")
_SEP_RE = re.compile(SEP, FLAGS)
_PLAIN_SEP_RE = re.compile(r"[ .+\-]", FLAGS)
_TRACK1 = re.compile(r"%?B?([0-9]{12,19})\^[^^\r\n]{0,26}\^[0-9]{4}[^\s\"'&,;<>\\?]*\??", FLAGS)
_TRACK2 = re.compile(r"(?<![0-9])([0-9]{12,})([=Dd])([0-9]{7,})[Ff]?\??", FLAGS)
_EMV_PAN = re.compile(r"5[Aa]([0-9A-Fa-f]{2})([0-9]{12,20})([Ff]?)", FLAGS)
_ISO_MSG = re.compile(r"(?<![0-9A-Fa-f])[0-9]{4}([0-9A-Fa-f]{16})([0-9A-Fa-f]{16})?", FLAGS)
_ISO_FIELD2 = re.compile(
    r"(?:DE|F|FLD|FIELD|BIT|P)[ _\-.#]?0{0,2}2(?![0-9])[^0-9A-Za-z\n]{0,8}"
    r"([0-9]{14,21})(?![0-9])",
    FLAGS | re.IGNORECASE,
)
_QUOTE = r"""\\*["']"""
_KV_TAIL = (
    rf"[0-9]?(?:{_QUOTE})?[ \t]*"
    rf"(?:(?:=>|[:=>])[ \t]*(?:{_QUOTE}(?P<qv>[^\"'\\\n]*)|(?P<v>[^\s\"'&,;<>\\)\]}}]+))"
    r"|(?<=[ \t])(?P<dv>[0-9]{3,19})(?![0-9]))"
)
_CONTEXT_CHARS = 32
# Gates (RE2 only): for a long ASCII string, one C search tells whether a pass can find
# anything at all, instead of the pass's own `re` search stepping through every char (a
# 400-char raw line took ~110 us through every pass). Each gate matches wherever its
# pass could match (a superset: the pass's pattern minus its look-arounds and optional
# parts), so a closed gate only skips work that would have changed nothing.
_GATE_MIN_LEN = 96
_GATES = {
    "twelve": r"[0-9]{12}",
    "track1": r"[0-9]{12}\^",
    "track2": r"[0-9]{12}[=Dd][0-9]{7}",
    "emv": r"5[Aa][0-9A-Fa-f]{2}[0-9]{12}",
    # a PAN after an LLVAR length: 14+ digits right after the bitmap(s) (`_iso_message`)
    "iso_msg": r"[0-9]{4}[4-7C-Fc-f][0-9A-Fa-f]{15}(?:[0-9A-Fa-f]{16})?[0-9]{14}",
    "iso_field2": r"2[^0-9A-Za-z\n]{0,8}[0-9]{14}",
    "candidate": _CANDIDATE_PLAIN.pattern,
}
# Strings the trigger found clean are remembered (bounded) so repeated keys and values
# are not scanned again; long strings are rarely repeated and are not kept.
_CLEAN_CACHE_LIMIT = 8192
_CLEAN_CACHE_MAX_LEN = 64


def iso_llvar_pan(run: str) -> int:
    """Offset of the PAN in an ISO 8583 LLVAR field (`16` + 16 digits), or -1."""
    if len(run) >= 14 and run[:2].isdigit() and int(run[:2]) == len(run) - 2 and is_pan(run[2:]):
        return 2
    return -1


def _digits_of(unit_text: str) -> str:
    if unit_text.isdigit():
        return unit_text
    # Every digit unit ends with its digit: 4, \u0034, %34, \x34.
    return "".join(u[-1] for u in _DIGIT_UNIT.findall(unit_text))


_DIGIT_UNIT = re.compile(DIGIT, FLAGS)


_ESCAPE_END = re.compile(r"(?:%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})$", FLAGS)


_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _in_hex_id(text: str, pos: int) -> bool:
    """Whether the digit run at text[pos] sits inside a hex identifier (trace id, hash):
    12 digits or more, glued to hex letters on one side or both, with no other letter
    glued on either side. `…4ba3161…d`, `5642740369881234f668` are ids; `ref4111…`,
    `declined4111…`, `ab4111…xyz`, `4111 1111…abc` (a short first group) are not, and
    neither is a run right after an escape such as `%3A` or `\u003a`."""
    start = pos
    while start > 0 and text[start - 1] in _LETTERS:
        start -= 1
    before = text[start:pos]
    if before and _ESCAPE_END.search(text, max(0, pos - 6), pos) is not None:
        before = ""  # `%3A`, `\u003a`: an escaped char, not letters glued to the digits
    if not all(c in _HEX_LETTERS for c in before):
        return False
    run = _DIGIT_RUN.match(text, pos)
    end = pos if run is None else run.end()
    if end - pos < 12:  # a short group (`A4604 8764 …`) is a card's first group, not an id
        return False
    if not before and (end == len(text) or text[end] not in _LETTERS):
        return False  # glued to no letter at all (the common case: a card in a message)
    after = end
    while after < len(text) and text[after] in _LETTERS:
        after += 1
    return (bool(before) or after > end) and all(c in _HEX_LETTERS for c in text[end:after])


_DIGIT_RUN = re.compile(r"[0-9]+", FLAGS)
_BEFORE_PANS = (
    Reason.TRACK1 | Reason.TRACK2 | Reason.EMV | Reason.ISO_MESSAGE | Reason.LLVAR | Reason.NAME
)
_NO_SEPARATORS = str.maketrans("", "", " .+-")


def _groups(candidate: str, seps: re.Pattern[str]) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each digit group; separators never look like digit units."""
    if candidate.isdigit():  # one plain group: a card written out whole
        return [(0, len(candidate), candidate)]
    out: list[tuple[int, int, str]] = []
    start = 0
    for sep in seps.finditer(candidate):
        out.append((start, sep.start(), _digits_of(candidate[start : sep.start()])))
        start = sep.end()
    out.append((start, len(candidate), _digits_of(candidate[start:])))
    return out


def _twelve_digit_window(groups: list[tuple[int, int, str]]) -> bool:
    """Whether consecutive groups add up to exactly 12 digits (a Maestro's length)."""
    for i in range(len(groups)):
        total = 0
        for g in groups[i:]:
            total += len(g[2])
            if total >= MIN_LENGTH:
                if total == MIN_LENGTH:
                    return True
                break
    return False


def _shape_ok(lengths: list[int]) -> bool:
    """Groupings cards are printed in: 4-4-4-4(-3), 4-4-4-1..4, 4-6-4, 4-6-5."""
    if all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4:
        return True
    return len(lengths) == 3 and lengths[0] == 4 and lengths[1] == 6 and lengths[2] in (4, 5)


Counts = dict[str, int]
Masker = Callable[[str], str]


def _count(counts: Counts, rule: str, n: int = 1) -> None:
    counts[rule] = counts.get(rule, 0) + n


class CustomPattern:
    """An operator's named regex and its replacement, counted as `custom:NAME`."""

    def __init__(self, name: str, pattern: str, replacement: str) -> None:
        self.rule = f"custom:{name}"
        self.regex = re.compile(pattern)
        self.replacement = replacement


class TextRedactor:
    """Redacts card data, SAD and custom matches in one string."""

    def __init__(
        self,
        mask: Masker,
        sad_names: Iterable[str],
        expiry_names: Iterable[str],
        custom: list[CustomPattern],
        trigger: Matcher,
        engine: str = "re",
        prefilter: Any = None,
    ) -> None:
        self._mask = mask
        # The C pre-scan (scan.py `load_prefilter`), when built: it says which strings need
        # work and, for each, which passes can change it (in this order, then bare PANs).
        self._prefilter = prefilter
        self._gated_passes: tuple[tuple[int, Callable[[str, Counts], str]], ...] = (
            (Reason.TRACK1, self._tracks1),
            (Reason.TRACK2, self._tracks2),
            (Reason.EMV, self._emv_pan),
            (Reason.ISO_MESSAGE, self._iso_message),
            (Reason.LLVAR, self._iso_field2),
            (Reason.NAME, self._key_values),
        )
        # `(?<!</)`: a closing XML tag names the field but never precedes its value.
        self._sad_kv = re.compile(f"(?<!</)(?:{names_pattern(sad_names)}){_KV_TAIL}", FLAGS)
        self._exp_kv = re.compile(f"(?<!</)(?:{names_pattern(expiry_names)}){_KV_TAIL}", FLAGS)
        self._name_hint = re.compile(names_pattern([*sad_names, *expiry_names]), FLAGS)
        self._custom = custom
        self._trigger = trigger
        self._clean: set[str] = set()
        self._custom_trigger = (
            re.compile("|".join(f"(?:{c.regex.pattern})" for c in custom)) if custom else None
        )
        self._gates: dict[str, Matcher] | None = None
        if engine == "re2":
            gates = {**_GATES, "names": names_pattern([*sad_names, *expiry_names], True)}
            self._gates = {k: compile_engine(f"(?m){v}".encode(), engine) for k, v in gates.items()}

    def _may(self, gate: str, text: str, check: re.Pattern[str] | None = None) -> bool:
        """Whether the pass behind `gate` can find anything in `text`: the gate's RE2
        search on long ASCII text, else the pass's own precheck `check` (a gate matches
        wherever `check` does, so it replaces it), else True."""
        gates = self._gates
        if gates is None or len(text) < _GATE_MIN_LEN or not text.isascii():
            return check is None or check.search(text) is not None
        return gates[gate].search(text.encode()) is not None

    def needs_work(self, *groups: list[str]) -> set[str]:
        """The strings of `groups` that any pass could change, found with one C-level scan.

        The trigger is the pre-scan's own bytes pattern, run over the UTF-8 of the strings
        joined, so "the scan flags it" and "the careful pass looks at it" cannot disagree.
        Short strings seen to be clean before (keys, levels, logger names) are remembered
        and not scanned again.
        """
        clean = self._clean
        strings = [s for group in groups for s in group if s not in clean]
        if not strings:
            return set()
        encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
        if self._prefilter is not None:
            found = {strings[i] for i in self._prefilter.candidates(encoded)}
        else:
            found = {strings[i] for i in flagged_lines(self._trigger, encoded)}
        if self._custom_trigger is not None:
            search = self._custom_trigger.search
            found.update(s for s in strings if search(s))
        if len(clean) > _CLEAN_CACHE_LIMIT:
            clean.clear()
        clean.update(s for s in strings if len(s) <= _CLEAN_CACHE_MAX_LEN and s not in found)
        return found

    def redact(self, text: str, counts: Counts, card_context: bool = False) -> str:
        """`text` redacted, after checking it needs it (one string: the CLI, raw lines)."""
        if not self.needs_work([text]):
            return text
        return self.redact_flagged(text, counts, card_context)

    def redact_flagged(self, text: str, counts: Counts, card_context: bool = False) -> str:
        """Every pass that can change `text`; the caller has found it in `needs_work`."""
        if self._prefilter is not None:
            reasons = self._prefilter.reasons(text.encode("utf-8", "surrogatepass"))
            if not reasons & Reason.ESCAPE:
                return self._passes_for(text, reasons, counts, card_context)
        return self._all_passes(text, counts, card_context)

    def redact_cards(self, text: str, counts: Counts) -> str:
        """The bare-PAN pass alone, for plain text whose only rule is the card one (the
        JSON shortcut knows this of the whole line: redact/shortcut.py)."""
        return self._pans(text, counts, False)

    def _passes_for(self, text: str, reasons: int, counts: Counts, card_context: bool) -> str:
        """The passes whose rule of the C pre-scan holds in `text` (no escapes in it: the
        raw bytes are what the passes read). A pass that changes the text has the rules
        read again for the passes after it."""
        out = text
        for bit, run in self._gated_passes if reasons & _BEFORE_PANS else ():
            if reasons & bit:
                before = out
                out = run(out, counts)
                if out != before:
                    reasons = self._prefilter.reasons(out.encode("utf-8", "surrogatepass"))
        if reasons & Reason.CARD:
            out = self._pans(out, counts, card_context)
        return self._custom_rules(out, counts)

    def _all_passes(self, text: str, counts: Counts, card_context: bool) -> str:
        """Every pass, each behind its own cheap gate (no C pre-scan, or escapes)."""
        out = text
        may = self._may
        # Tracks and every dump form hold 12 plain digits in a row.
        if may("twelve", out, _TWELVE_DIGITS):
            if "^" in out and may("track1", out):
                out = self._tracks1(out, counts)
            if ("=" in out or "D" in out or "d" in out) and may("track2", out):
                out = self._tracks2(out, counts)
            if ("5A" in out or "5a" in out) and may("emv", out):
                out = self._emv_pan(out, counts)
            if may("iso_msg", out):
                out = self._iso_message(out, counts)
            if may("iso_field2", out):
                out = self._iso_field2(out, counts)
        if may("names", out, self._name_hint):
            out = self._key_values(out, counts)
        out = self._pans(out, counts, card_context)
        return self._custom_rules(out, counts)

    def _custom_rules(self, text: str, counts: Counts) -> str:
        for rule in self._custom:
            text, n = rule.regex.subn(rule.replacement, text)
            if n:
                _count(counts, rule.rule, n)
        return text

    # --- track data -------------------------------------------------------------------
    def _tracks1(self, text: str, counts: Counts) -> str:
        out, n = _TRACK1.subn(REDACTED, text)
        if n:
            _count(counts, "track", n)
        return out

    def _tracks2(self, text: str, counts: Counts) -> str:
        pieces: list[str] = []
        last = 0
        for m in _TRACK2.finditer(text):
            run, sep = m.group(1), m.group(2)
            start = -1
            if sep == "=" and len(run) <= MAX_LENGTH:
                start = m.start(1)  # a bare track 2 shape: removed even if not Luhn-valid
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
            pieces.append(text[last:start])
            pieces.append(REDACTED)
            last = m.end()
            _count(counts, "track")
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    # --- payment message dumps ------------------------------------------------------------
    def _emv_pan(self, text: str, counts: Counts) -> str:
        spans: list[tuple[int, int, str]] = []
        for m in _EMV_PAN.finditer(text):
            nibbles = int(m.group(1), 16) * 2
            digits = m.group(2)
            if nibbles <= len(digits) and is_pan(digits[:nibbles], card_context=True):
                pan = digits[:nibbles]
            elif nibbles - 1 == len(digits) and m.group(3) and is_pan(digits, card_context=True):
                pan = digits
            else:
                continue
            spans.append((m.start(2), m.start(2) + len(pan), pan))
        return self._replace_pans(text, spans, counts)

    def _iso_message(self, text: str, counts: Counts) -> str:
        spans: list[tuple[int, int, str]] = []
        for m in _ISO_MSG.finditer(text):
            first = int(m.group(1)[0], 16)
            if not first & 0x4:  # field 2 absent
                continue
            pos = m.end(2) if (first & 0x8 and m.group(2)) else m.end(1)
            ll = text[pos : pos + 2]
            if not ll.isdigit():
                continue
            pan = text[pos + 2 : pos + 2 + int(ll)]
            if pan.isdigit() and is_pan(pan, card_context=True):
                spans.append((pos + 2, pos + 2 + len(pan), pan))
        return self._replace_pans(text, spans, counts)

    def _iso_field2(self, text: str, counts: Counts) -> str:
        spans: list[tuple[int, int, str]] = []
        for m in _ISO_FIELD2.finditer(text):
            run = m.group(1)
            off = iso_llvar_pan(run)
            if off >= 0:
                spans.append((m.start(1) + off, m.end(1), run[off:]))
        return self._replace_pans(text, spans, counts)

    # --- key=value inside text --------------------------------------------------------------
    def _key_values(self, text: str, counts: Counts) -> str:
        out = self._sad_kv.sub(lambda m: _replace_value(m, REDACTED, counts, "sad_key"), text)
        return self._exp_kv.sub(lambda m: _replace_value(m, None, counts, "expiry"), out)

    # --- bare PANs -----------------------------------------------------------------------
    def _pans(self, text: str, counts: Counts, card_context: bool) -> str:
        plain = "%" not in text and "\\" not in text
        spans = self._plain_pan_spans(text, card_context)
        if not plain:
            # Escapes are ambiguous (`%378282…` is `%37`+`8282…` or `%`+`378282…`):
            # take the cards of both readings.
            decoded = self._pan_spans(text, card_context, _matches(_CANDIDATE, text), _SEP_RE)
            spans = _merge_spans(decoded, spans)
        return self._replace_pans(text, spans, counts)

    def _plain_pan_spans(self, text: str, card_context: bool) -> list[tuple[int, int, str]]:
        """The cards of the plain reading (digits and ` .+-` only); the C pre-scan finds
        them in ASCII text (same rules, tests/redact/test_prefilter.py), Python else."""
        if self._prefilter is not None and text.isascii():
            return [
                (start, end, text[start:end].translate(_NO_SEPARATORS))
                for start, end in self._prefilter.card_spans(text.encode(), card_context)
            ]
        return self._pan_spans(text, card_context, self._plain_candidates(text), _PLAIN_SEP_RE)

    def _plain_candidates(self, text: str) -> Iterable[tuple[int, str]]:
        """`_CANDIDATE_PLAIN`'s matches as (start, text), found by RE2 on long ASCII text
        (same leftmost-first, greedy matches; offsets equal for ASCII)."""
        gates = self._gates
        if gates is None or len(text) < _GATE_MIN_LEN or not text.isascii():
            return _matches(_CANDIDATE_PLAIN, text)
        return _re2_matches(gates["candidate"], text)

    def _pan_spans(
        self,
        text: str,
        card_context: bool,
        candidates: Iterable[tuple[int, str]],
        seps: re.Pattern[str],
    ) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        for base, found in candidates:
            groups = _groups(found, seps)
            # A card keyword near admits 12-digit Maestro numbers; looked for only when
            # a window of exactly 12 digits could be one.
            context = card_context or (
                _twelve_digit_window(groups)
                and CARD_WORD.search(text, max(0, base - _CONTEXT_CHARS), base) is not None
            )
            # Digits inside a hex id (trace ids, hashes) do not start a card.
            i = 1 if text[base].isdigit() and _in_hex_id(text, base) else 0
            while i < len(groups):
                j = self._longest_pan_from(groups, i, context)
                if j < 0:
                    i += 1
                    continue
                digits = "".join(g[2] for g in groups[i : j + 1])
                spans.append((base + groups[i][0], base + groups[j][1], digits))
                i = j + 1
        return spans

    @staticmethod
    def _longest_pan_from(groups: list[tuple[int, int, str]], i: int, context: bool) -> int:
        """Index of the last group of the longest card starting at group i, or -1."""
        lengths: list[int] = []
        digits = ""
        best = -1
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > MAX_LENGTH:
                break
            lengths.append(len(groups[j][2]))
            if len(digits) < MIN_LENGTH or (len(lengths) > 1 and not _shape_ok(lengths)):
                continue
            if is_pan(digits, card_context=context):
                best = j
        return best

    def _replace_pans(self, text: str, spans: list[tuple[int, int, str]], counts: Counts) -> str:
        if not spans:
            return text
        pieces: list[str] = []
        last = 0
        for start, end, digits in spans:
            pieces.append(text[last:start])
            pieces.append(self._mask(digits))
            last = end
        pieces.append(text[last:])
        _count(counts, "pan", len(spans))
        return "".join(pieces)


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, str]]:
    return ((m.start(), m.group()) for m in pattern.finditer(text))


def _re2_matches(matcher: Matcher, text: str) -> Iterator[tuple[int, str]]:
    """Non-overlapping matches over ASCII `text`, as `finditer` gives them."""
    raw = text.encode()
    pos = 0
    while pos <= len(raw):
        m = matcher.search(raw, pos)
        if m is None:
            return
        start, end = m.start(), m.end()
        yield start, text[start:end]
        pos = end if end > start else end + 1


def _merge_spans(
    first: list[tuple[int, int, str]], second: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """`first` plus the spans of `second` that overlap none of them, in text order."""
    merged = list(first)
    for span in second:
        if all(span[1] <= s[0] or span[0] >= s[1] for s in first):
            merged.append(span)
    return sorted(merged)


def _replace_value(m: re.Match[str], replacement: str | None, counts: Counts, rule: str) -> str:
    for name in ("qv", "v", "dv"):
        if m.group(name):
            start, end = m.span(name)
            break
    else:
        return m.group(0)
    value = m.group(name)
    new = replacement if replacement is not None else re.sub(r"[0-9]", "*", value)
    if new == value:
        return m.group(0)
    _count(counts, rule)
    offset = m.start()
    whole = m.group(0)
    return whole[: start - offset] + new + whole[end - offset :]
