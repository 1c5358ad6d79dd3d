"""Find card numbers in test output without ever printing one.

"Card number" is the brand table's definition (`collector.redact.cards.is_pan`: Luhn, a
brand prefix and a length that brand issues), applied to every maximal run of digits
glued to anything, and to the groupings cards are written in (4-4-4-4, 4-6-5, 4-4-4-4-3
with one kind of single separator: space, dash or dot).
"""

from __future__ import annotations

import re

from collector.redact.cards import is_pan

_RUN = re.compile(r"\d(?:[ \-.]?\d)*")
# Hex identifiers (trace ids, span ids, hashes): digits inside them are not card numbers,
# the redactor's documented rule (docs/redaction.md).
_HEX_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*(?![0-9A-Za-z])")
_GROUPINGS = {(4, 4, 4, 4), (4, 6, 5), (4, 4, 4, 4, 3)}


def _candidates(run: str) -> list[str]:
    found = []
    for sep in " -.":
        groups = run.split(sep)
        for start in range(len(groups)):
            for size in (3, 4, 5):
                part = groups[start : start + size]
                if tuple(len(g) for g in part) in _GROUPINGS and all(g.isdigit() for g in part):
                    found.append("".join(part))
    found += re.findall(r"\d+", run)
    return found


def count_pans(text: str) -> int:
    """How many card numbers `text` holds (digits inside hex identifiers excepted)."""
    text = _HEX_ID.sub(
        lambda m: "x" * len(m.group(0)) if len(m.group(0)) >= 16 else m.group(0), text
    )
    return sum(
        1
        for m in _RUN.finditer(text)
        for digits in _candidates(m.group(0))
        if 13 <= len(digits) <= 19 and is_pan(digits)
    )
