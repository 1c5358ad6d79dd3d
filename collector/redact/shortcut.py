"""The careful pass's shortcut for a JSON line whose only card data are cards in strings.

Most flagged lines of a payment service hold one card number in a message string and
nothing else the careful pass acts on. For those, the walk (collect every key and string,
classify the keys, ask which strings need work) costs ~25 us to change one string. The C
pre-scan can tell from the raw line that this is all there is; then only the strings that
hold those cards are redacted, by the same text pass the walk would use.

The shortcut is taken only when its result is the walk's, and declines (the walk runs)
otherwise: the line must be plain ASCII JSON without escapes (its strings are then its raw
bytes between quotes), its only pre-scan rule the card one (no key name, track, dump,
escape or exponent float), every card inside a string value (not a key, not a number), none
of them 12 digits (whose context the walk judges by key), and the record small and shallow
enough that the walk would not fail closed. tests/redact/test_shortcut.py compares the two.
"""

from __future__ import annotations

from typing import Any

from collector.redact.scan import Reason
from collector.redact.text import Counts, TextRedactor

_TWELVE = 12


class JsonShortcut:
    """Redacts the cards of a flagged JSON record in place, or says the walk must."""

    def __init__(self, prefilter: Any, text: TextRedactor, max_depth: int, max_bytes: int) -> None:
        self._prefilter = prefilter
        self._text = text
        self._max_depth = max_depth
        self._max_bytes = max_bytes

    def cards_in_strings(self, line: bytes) -> list[str] | None:
        """The cards of `line` as written (separators kept), when each sits in a string
        value and nothing else needs the walk; None when the walk must run."""
        if (
            len(line) * 4 > self._max_bytes
            or not line.isascii()
            or b"\\" in line
            or b"%" in line
            or line.count(b"{") + line.count(b"[") >= self._max_depth
            or self._prefilter.reasons(line) != Reason.CARD
        ):
            return None
        # With context, a 12-digit Maestro shows up as a span of its own; without one,
        # the spans are the same as without context (only 12-digit cards depend on it).
        cards = []
        for start, end in self._prefilter.card_spans(line, True):
            written = line[start:end]
            if len(written.translate(None, b" .+-")) == _TWELVE:
                return None  # card or not depends on its key: the walk judges
            if line.count(b'"', 0, start) % 2 == 0:
                return None  # not inside a string: a number
            close = line.find(b'"', end)
            if close < 0 or line[close + 1 :].lstrip().startswith(b":"):
                return None  # an unclosed string, or a key: the walk renames keys
            cards.append(written.decode())
        return cards

    def redact(self, record: Any, cards: list[str], counts: Counts) -> None:
        """Every string value of `record` holding one of `cards`, through the text pass."""
        stack = [record]
        redact = self._text.redact_flagged
        first, more = cards[0], cards[1:]
        while stack:
            node = stack.pop()
            items = node.items() if type(node) is dict else enumerate(node)
            for key, value in items:
                vtype = type(value)
                if vtype is str:
                    if first in value or (more and any(card in value for card in more)):
                        node[key] = redact(value, counts, False)
                elif vtype is dict or vtype is list:
                    stack.append(value)
