"""The careful pass over one string: find card data (detect.py), write its replacements.

A string is decoded first (normalize.py) when it holds anything that can hide a digit,
so `%34%31…`, `\\u0034…`, `&#52;…` and full-width digits are found like plain ones; each
finding maps back to the characters that wrote it, and those are replaced whole. A
replacement keeps the syntax of where it stands: a masked number that stood bare in JSON
(`\\"exp_month\\": 12`, `"pan": 4111…`) is written as a string with the same quoting, so an
embedded document still parses. Expiry dates are masked by `redact.expiry`: with a full
PAN in the same text or record (the default), always, or never. The operator's custom
rules run last, on every string the walk visits that they match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from collector.redact.cards import SEPARATORS
from collector.redact.detect import EXPIRY, PAN, Detector, Finding, iso_llvar_pan
from collector.redact.keys import KeyClassifier
from collector.redact.normalize import normalize
from collector.redact.scan import Reason

__all__ = ["REDACTED", "Counts", "CustomPattern", "TextRedactor", "iso_llvar_pan"]

REDACTED = "[REDACTED]"
# Strings the trigger found clean are remembered (bounded) so repeated keys and values
# are not scanned again; long strings are rarely repeated and are not kept.
_CLEAN_CACHE_LIMIT = 8192
_CLEAN_CACHE_MAX_LEN = 64
_DIGIT = re.compile(r"[0-9]")
_JSON_BEFORE = re.compile(r"(\\*)\"[ \t]*:[ \t]*$")
_JSON_AFTER = re.compile(r"[ \t]*(?:[,}\]]|\\*$|$)")
_ARRAY_OPEN = re.compile(r"(\\*)\"[ \t]*:[ \t]*\[[^\[\]]*$")

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
        keys: KeyClassifier,
        label_names: Iterable[str],
        custom: list[CustomPattern],
        expiry: str = "with_pan",
        prefilter: Any = None,
    ) -> None:
        self._mask = mask
        self._detector = Detector(keys, label_names)
        self._custom = custom
        self._expiry = expiry
        # The C pre-scan (scan.py `load_prefilter`), when built: it says which strings can
        # need work (its rules are wider than the detector's, never narrower); without it
        # every string does.
        self._prefilter = prefilter
        self._clean: set[str] = set()
        self._custom_trigger = (
            re.compile("|".join(f"(?:{c.regex.pattern})" for c in custom)) if custom else None
        )

    def needs_work(self, *groups: list[str]) -> set[str]:
        """The strings of `groups` that the careful pass could change, found with one
        C-level scan (the pre-scan's own rules, run over the UTF-8 of each string), plus
        those a custom rule matches. Short strings seen to be clean before (keys, levels,
        logger names) are remembered and not scanned again.
        """
        clean = self._clean
        strings = [s for group in groups for s in group if s not in clean]
        if not strings:
            return set()
        if self._prefilter is not None:
            encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
            found = {strings[i] for i in self._prefilter.candidates(encoded)}
        else:
            found = set(strings)
        if self._custom_trigger is not None:
            search = self._custom_trigger.search
            found.update(s for s in strings if search(s))
        if len(clean) > _CLEAN_CACHE_LIMIT:
            clean.clear()
        clean.update(s for s in strings if len(s) <= _CLEAN_CACHE_MAX_LEN and s not in found)
        return found

    def known_clean(self, text: str) -> bool:
        """Whether `needs_work` found `text` clean before (remembered, short strings)."""
        return text in self._clean

    def redact(
        self, text: str, counts: Counts, card_context: bool = False, expiry: bool | None = None
    ) -> str:
        """`text` redacted, after checking it needs it (one string: the CLI, raw lines)."""
        if not self.needs_work([text]):
            return text
        return self.redact_flagged(text, counts, card_context, expiry)

    def redact_flagged(
        self,
        text: str,
        counts: Counts,
        card_context: bool = False,
        expiry: bool | None = None,
        pending: list[bool] | None = None,
    ) -> str:
        """Every finding in `text` replaced; the caller has found it in `needs_work`.

        `expiry`: True masks expiry dates, False never; None (the default) follows the
        config: `with_pan` masks them when this text holds a full PAN or track, and
        otherwise appends to `pending` so that the walk can mask them when another value
        of the record holds one.
        """
        out = self._card_data(text, counts, card_context, expiry, pending)
        return self._custom_rules(out, counts) if self._custom else out

    def redact_cards(self, text: str, counts: Counts) -> str:
        """Bare cards only, no custom rules: the JSON shortcut (redact/shortcut.py), taken
        when the C found no rule but the card one in the whole line (plain ASCII, no
        escape), so the other rules of the detector cannot find anything in it."""
        return self._card_data(text, counts, False, None, None, Reason.CARD)

    def _card_data(
        self,
        text: str,
        counts: Counts,
        card_context: bool,
        expiry: bool | None,
        pending: list[bool] | None,
        rules: int = 0,
    ) -> str:
        norm = normalize(text)
        windows = names = None
        if norm.starts is not None:
            rules = Reason.ALL  # decoded: every rule, on what the raw bytes did not show
        elif self._prefilter is not None:
            raw = text.encode("utf-8", "surrogatepass")
            if len(raw) == len(text):
                # plain ASCII, nothing decoded (offsets are the text's): the C's reasons
                # say which rules can hold, its card windows and name starts where
                rules, windows, names = self._prefilter.findings(raw, rules)
            else:
                rules = rules or self._prefilter.reasons(raw)
        else:
            rules = rules or Reason.ALL
        findings = self._detector.find(norm.text, card_context, None, rules, None, windows, names)
        if norm.starts is not None:
            # Escapes are ambiguous (`%4604…` is `%46`+`04…` or `%`+`4604…`): the cards of
            # the raw reading count too, mapped onto the decoded text.
            findings.extend(_onto(norm, f) for f in self._detector.chains(text, card_context))
        if not findings:
            return text
        if expiry is None:
            mode = self._expiry
            expiry = mode == "always" or (
                mode == "with_pan"
                and any(f.kind != EXPIRY and f.kind != "sad_key" for f in findings)
            )
        if not expiry:
            kept = [f for f in findings if f.kind != EXPIRY]
            if pending is not None and len(kept) < len(findings) and self._expiry == "with_pan":
                pending.append(True)
            findings = kept
        pieces: list[str] = []
        last = 0
        prev_end = -1
        decoded = norm.starts is not None
        for start, end, kind, digits in (
            _resolve(findings, norm.text) if len(findings) > 1 else findings
        ):
            s, e = norm.span(start, end) if decoded else (start, end)
            if s < last:
                continue
            if kind == PAN:
                replacement = self._mask(digits)
                if prev_end >= 0 and _only_separators(norm.text[prev_end:start]):
                    # right after another masked card in one chain: its first digits
                    # would read as one run with the last four before them
                    replacement = _hide_lead(replacement)
                prev_end = end
            else:
                replacement = self._replacement(text, s, e, kind, digits)
                prev_end = -1
            pieces.append(text[last:s])
            pieces.append(_as_json_string(text, s, e, replacement))
            last = e
            counts[kind] = counts.get(kind, 0) + 1
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    def _replacement(self, text: str, start: int, end: int, kind: str, digits: str) -> str:
        if kind == PAN:
            return self._mask(digits)
        if kind == EXPIRY:
            return _DIGIT.sub("*", text[start:end])
        return REDACTED

    def _custom_rules(self, text: str, counts: Counts) -> str:
        for rule in self._custom:
            text, n = rule.regex.subn(rule.replacement, text)
            if n:
                _count(counts, rule.rule, n)
        return text


_RANK = {"sad_key": 3, "track": 3, PAN: 2, EXPIRY: 1}


def _onto(norm: Any, f: Finding) -> Finding:
    """A finding in the original text as a span of the decoded one (the decoded chars
    that overlap it)."""
    starts, ends = norm.starts, norm.ends
    lo = next((i for i, e in enumerate(ends) if e > f.start), len(ends))
    hi = next((i for i in range(len(starts) - 1, -1, -1) if starts[i] < f.end), lo - 1) + 1
    return Finding(lo, max(lo, hi), f.kind, f.digits)


def _resolve(findings: list[Finding], text: str) -> list[Finding]:
    """Overlapping findings merged, in text order: the union of their spans, replaced as
    the strongest of them asks (a removed value over a PAN over an expiry). Merged PANs
    are masked on the digits of the union (two cards in one chain: the first six of the
    first, the last four of the last)."""
    out: list[Finding] = []
    for f in sorted(findings):
        if out and f.start < out[-1].end:
            prev = out[-1]
            start, end = prev.start, max(prev.end, f.end)
            kind = f.kind if _RANK[f.kind] > _RANK[prev.kind] else prev.kind
            digits = prev.digits
            if kind == PAN and end > prev.end:
                digits = "".join(c for c in text[start:end] if "0" <= c <= "9")
            out[-1] = Finding(start, end, kind, digits)
            continue
        out.append(f)
    return out


def _only_separators(between: str) -> bool:
    return all(c in SEPARATORS for c in between)


def _hide_lead(masked: str) -> str:
    """A mask with its leading digits hidden too (`411111******1111` -> `************1111`)."""
    lead = len(masked) - len(masked.lstrip("0123456789"))
    return "*" * lead + masked[lead:] if lead < len(masked) else masked


def _as_json_string(text: str, start: int, end: int, replacement: str) -> str:
    """`replacement` quoted when it replaces a bare number in JSON (a document in a string
    included, with its level of escaping), so the document still parses."""
    if replacement.isdigit() or (start > 0 and text[start - 1] in "\"'"):
        return replacement
    at = start
    while at > 0 and text[at - 1] in " \t":
        at -= 1
    if at == 0 or text[at - 1] not in ":[,":
        return replacement  # not after a key or in an array: not a bare JSON value
    before = text[max(0, start - 200) : start]
    m = _JSON_BEFORE.search(before) or _ARRAY_OPEN.search(before)
    if m is None or _JSON_AFTER.match(text, end) is None:
        return replacement
    quote = m.group(1) + '"'
    return f"{quote}{replacement}{quote}"
