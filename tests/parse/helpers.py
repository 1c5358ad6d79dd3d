"""Shared helpers for parser tests: build a parser the way the pipeline does."""

from __future__ import annotations

from typing import Any

from collector.parse import ParseResult, make_parser
from collector.parse.config import ParserOptions

# A test card number (Visa test PAN); assertions about it never print it.
TEST_PAN = "4111111111111111"


def parse(fmt: str, lines: list[bytes], **options: Any) -> ParseResult:
    return make_parser(fmt, ParserOptions(**options)).parse(lines)


def ns(text: str) -> int:
    """Unix ns of an ISO 8601 text with an offset (reference computed by datetime)."""
    from datetime import datetime

    head, _, frac = text.partition(".")
    zone = ""
    if frac:
        digits = "".join(c for c in frac if c.isdigit())
        zone = frac[len(digits) :]
    else:
        digits = ""
    dt = datetime.fromisoformat(head + zone.replace("Z", "+00:00"))
    return int(dt.timestamp()) * 1_000_000_000 + int(digits.ljust(9, "0")[:9] or 0)
