"""`format: text` — the line as `message` (or `message_key`); also what raw mode ships."""

from __future__ import annotations

from collector.parse.config import ParserOptions
from collector.parse.result import ParseResult


class TextParser:
    def __init__(self, options: ParserOptions) -> None:
        self._key = options.message_key

    def parse(self, lines: list[bytes]) -> ParseResult:
        key = self._key
        return ParseResult([{key: line.decode("utf-8", "replace")} for line in lines], None, {})
