"""Undo what hides digits, keeping a map back to the original offsets.

A card number can be written so that no run of ASCII digits shows it: JSON and C escapes
(`\\u0034`, `\\\\u0034`, `\\x34`), URL encoding (`%34`, `%20`, `%C2%A0`, doubly: `%2520`),
HTML entities (`&#52;`, `&#x34;`, `&nbsp;`), full-width and other Unicode digits, and
Unicode space separators (NBSP, narrow NBSP, thin space). Detection (detect.py) runs on
the decoded text, where each of these is one ASCII digit or one space; `Normalized.span`
maps a finding back to the characters that wrote it, so the replacement covers the whole
written form (`%34%31…` is replaced, not only its digits).

The decoding is done in passes (at most `MAX_PASSES`, for double encoding) and only when
the text holds something to decode: plain ASCII without `%`, `\\` or `&` is its own
normal form, and costs one check.
"""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata
from functools import cache, lru_cache

MAX_PASSES = 3

# An escape that may stand for one character (digit, separator, letter, quote...).
_ESCAPE = re.compile(
    r"\\+u([0-9a-fA-F]{4})"
    r"|\\+x([0-9a-fA-F]{2})"
    r"|((?:%[0-9a-fA-F]{2})+)"
    r"|&#([0-9]{1,7});?"
    r"|&#[xX]([0-9a-fA-F]{1,6});?"
    r"|&([A-Za-z][A-Za-z0-9]{1,31});",
)


@lru_cache(maxsize=4096)
def unicode_class(char: str) -> str:
    """What a non-ASCII character stands for in detection: its digit, a space (Unicode
    space separators, zero-width spaces), a dash (Unicode dashes, minus), or itself."""
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    category = unicodedata.category(char)
    if category == "Zs" or char in "\u200b\u2060\ufeff\u2028\u2029\u0085":
        return " "
    if category == "Pd" or char == "\u2212":
        return "-"
    return char


@cache
def unicode_ranges() -> list[tuple[int, int]]:
    """Code point ranges (inclusive, above 0x7F) that `unicode_class` changes: every
    decimal digit, space separator and dash. Handed to the C pre-scan, which flags a line
    holding one of them (the decoding is then done here, in the careful pass).

    Asked of the first two planes only (every Unicode digit, space and dash is there;
    asking all 1.1 million code points took ~0.5 s of CPU at start-up); the regex engine
    finds the digits, and `unicode_class` confirms each candidate."""
    plane01 = "".join(map(chr, range(0x80, 0x20000)))
    candidates = {
        0x80 + i for m in _CANDIDATES.finditer(plane01) for i in range(m.start(), m.end())
    }
    out: list[tuple[int, int]] = []
    for cp in sorted(candidates):
        if unicode_class(chr(cp)) != chr(cp):
            if out and out[-1][1] == cp - 1:
                out[-1] = (out[-1][0], cp)
            else:
                out.append((cp, cp))
    return out


# digits, whitespace (Zs, Zl, Zp, NEL), dashes and the zero-width characters
_CANDIDATES = re.compile(
    "[\\d\\s\u2010-\u2015\u2212\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u301c\u3030\u30a0"
    "\ufe31\ufe32\ufe58\ufe63\uff0d\u058a\u05be\u1400\u1806\u2e5d\u200b\u2060\ufeff"
    "\U00010ead]+"
)


@cache
def entity_names() -> list[str]:
    """HTML entity names (`thinsp`, `ndash`, `nbsp`...) that stand for a character
    `unicode_class` reads as a space or a dash: handed to the C pre-scan, which flags a
    line holding `&` and one of them."""
    out = set()
    for name, char in html.entities.html5.items():
        if len(char) == 1 and (
            char in " -" or (not char.isascii() and unicode_class(char) != char)
        ):
            out.add(name.rstrip(";"))
    return sorted(out)


class Normalized:
    """`text` decoded, with each decoded character's span in the original."""

    __slots__ = ("ends", "original", "starts", "text")

    def __init__(self, original: str, text: str, starts: list[int] | None, ends: list[int] | None):
        self.original = original
        self.text = text
        # None: the identity (text is original).
        self.starts = starts
        self.ends = ends

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span that wrote decoded text[start:end] (end exclusive)."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]


def needs_decoding(text: str) -> bool:
    """Whether `normalize` could change `text` (cheap: C-level scans)."""
    return not text.isascii() or "%" in text or "\\" in text or "&" in text


def normalize(text: str) -> Normalized:
    """`text` with every hiding form decoded (see module doc)."""
    if not needs_decoding(text):
        return Normalized(text, text, None, None)
    cur = text
    starts = list(range(len(text)))
    ends = list(range(1, len(text) + 1))
    for _ in range(MAX_PASSES):
        out, step_starts, step_ends = _decode_once(cur)
        if out == cur:
            break
        starts = [starts[s] for s in step_starts]
        ends = [ends[e - 1] for e in step_ends]
        cur = out
    if not cur.isascii():
        chars = [c if c < "\x80" else unicode_class(c) for c in cur]
        cur = "".join(chars)  # every class is one character: offsets are unchanged
    if cur == text:
        return Normalized(text, text, None, None)
    return Normalized(text, cur, starts, ends)


def _decode_once(text: str) -> tuple[str, list[int], list[int]]:
    """One pass of escape decoding: (decoded, start of each char, end of each char)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last = 0
    for m in _ESCAPE.finditer(text):
        begin = m.start()
        if begin > last:
            pieces.append(text[last:begin])
            starts.extend(range(last, begin))
            ends.extend(range(last + 1, begin + 1))
        for char, s, e in _decoded(m):
            pieces.append(char)
            starts.append(s)
            ends.append(e)
        last = m.end()
    if last == 0:
        return text, [], []
    pieces.append(text[last:])
    starts.extend(range(last, len(text)))
    ends.extend(range(last + 1, len(text) + 1))
    return "".join(pieces), starts, ends


def _decoded(m: re.Match[str]) -> list[tuple[str, int, int]]:
    """The characters one escape match stands for, each with its original span."""
    start, end = m.span()
    hex4, hex2, percents, dec, hexent, named = m.groups()
    if percents is not None:
        return _percent_decoded(percents, start)
    if named is not None:
        char = html.unescape(m.group())
        if len(char) != 1:  # not an entity: left as written
            return [(c, start + i, start + i + 1) for i, c in enumerate(m.group())]
        return [(char, start, end)]
    code = int(hex4 or hex2 or hexent, 16) if dec is None else int(dec)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return [(c, start + i, start + i + 1) for i, c in enumerate(m.group())]
    return [(chr(code), start, end)]


def _percent_decoded(run: str, base: int) -> list[tuple[str, int, int]]:
    """A run of `%XX`: ASCII bytes one by one, UTF-8 sequences as their characters."""
    raw = bytes(int(run[i + 1 : i + 3], 16) for i in range(0, len(run), 3))
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(raw):
        b = raw[i]
        size = (
            1 if b < 0x80 else 2 if b >> 5 == 6 else 3 if b >> 4 == 14 else 4 if b >> 3 == 30 else 1
        )
        char = None
        if size > 1:
            try:
                char = raw[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                char = None
        if char is None or len(char) != 1:
            size = 1
            # not ASCII and not UTF-8: left as written (`%B4` in a track 1 is `%`, `B`, `4`)
            char = chr(b) if b < 0x80 else None
        if char is None:
            out.extend(
                (c, base + 3 * i + k, base + 3 * i + k + 1)
                for k, c in enumerate(run[3 * i : 3 * i + 3])
            )
        else:
            out.append((char, base + 3 * i, base + 3 * (i + size)))
        i += size
    return out
