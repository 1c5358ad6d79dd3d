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

from collector.redact.text import Counts, TextRedactor


class JsonShortcut:
    """Redacts the cards of a flagged JSON record in place, or says the walk must."""

    def __init__(self, prefilter: Any, text: TextRedactor, max_depth: int, max_bytes: int) -> None:
        self._prefilter = prefilter
        self._text = text
        self._max_depth = max_depth
        self._max_bytes = max_bytes

    def cards_in_strings(self, line: bytes) -> list[str] | None:
        """The cards of `line` as written (separators kept), when each sits in a string
        value and nothing else needs the walk; None when the walk must run. The C pre-scan
        answers (`Prefilter.json_cards`: plain ASCII, no escape, no other rule, no card
        as a key or number or of 12 digits, shallow enough)."""
        if len(line) * 4 > self._max_bytes:
            return None  # the walk fails closed on big records: let it judge
        spans = self._prefilter.json_cards(line, self._max_depth)
        if spans is None:
            return None
        return [line[start:end].decode() for start, end in spans]

    def redact(self, record: Any, cards: list[str], counts: Counts) -> None:
        """Every string value of `record` holding one of `cards`, through the text pass."""
        stack = [record]
        redact = self._text.redact_cards
        first, more = cards[0], cards[1:]
        while stack:
            node = stack.pop()
            items = node.items() if type(node) is dict else enumerate(node)
            for key, value in items:
                vtype = type(value)
                if vtype is str:
                    if first in value or (more and any(card in value for card in more)):
                        node[key] = redact(value, counts)
                elif vtype is dict or vtype is list:
                    stack.append(value)
