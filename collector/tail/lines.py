"""From bytes to lines: newline splitting, multiline joining, over-long lines.

All of it works on a whole buffer with C-level calls (`bytes.split`, `re.split`), not a
Python loop per line: this runs for every byte the collector reads.
"""

from __future__ import annotations

import re

from collector.tail.config import MultilineConfig

# A Java stack trace continues on lines that start with whitespace, "at ", "Caused by:",
# "Suppressed:" or "... N more", and on the exception line itself, which starts with the
# exception's qualified class name (`org.springframework...BeanCreationException: ...`).
_JAVA_CONTINUATION = (
    rb"[ \t]|at |Caused by:|Suppressed:|\.\.\."
    rb"|(?:[A-Za-z_$][\w$]*\.)+[\w$]*(?:Exception|Error|Throwable)\b"
)


# A byte that may belong to a digit run as the redactor reads one: a digit, a grouping
# separator, a byte of an escape, URL encoding or entity that may spell a digit or a
# separator (`\u0034`, `%34`, `&#52;`), a byte of a non-ASCII digit or space. A superset
# on purpose, kept here rather than taken from the redactor's tables: masking a few bytes
# too many in a line that is cut anyway costs nothing; missing one leaks a card.
_RUN_BYTE = rb"[0-9 \t\-.+_\\%&#;uUxX\x80-\xff]"
_RUN_AT_END = re.compile(_RUN_BYTE + rb"+\Z")
_RUN_AT_START = re.compile(_RUN_BYTE + rb"*")
_IN_RUN = re.compile(_RUN_BYTE)
# An escaped 19-digit card with escaped separators fits in this many bytes.
_RUN_WINDOW = 256
_MASK_DIGITS = bytes.maketrans(b"0123456789" + bytes(range(0x80, 0x100)), b"*" * (10 + 0x80))


def joiner_for(cfg: MultilineConfig) -> re.Pattern[bytes] | None:
    """The regex whose matches are the newlines that separate records, or None (every newline)."""
    if cfg.mode == "java":
        return re.compile(rb"\n(?!" + _JAVA_CONTINUATION + rb")")
    if cfg.mode == "start_pattern":
        assert cfg.start_pattern is not None
        # The whole pattern, anchors and all, is tried just after each newline; MULTILINE
        # makes every `^` of it (`^INFO|^ERROR` has two) match there.
        start = cfg.start_pattern.encode()
        return re.compile(rb"\n(?=(?:" + start + rb"))", re.MULTILINE)
    return None


def split_records(
    complete: bytes, joiner: re.Pattern[bytes] | None, hold_last: bool
) -> tuple[list[bytes], int]:
    """Split `complete` (bytes up to, not including, a newline) into records.

    Returns the records and how many bytes of `complete` (+1 for its final newline when
    everything is consumed) they cover. With `hold_last`, the last record is kept back,
    because the next read may bring its continuation lines.
    The `\r` of a CRLF line ending is not part of a record; one inside a line is kept.
    """
    crlf = b"\r" in complete
    if joiner is None:
        return (_drop_cr(complete) if crlf else complete).split(b"\n"), len(complete) + 1
    records = joiner.split(complete)
    consumed = len(complete) + 1
    if hold_last:
        consumed = len(complete) - len(records.pop())
    if crlf:
        records = [_drop_cr(r) for r in records]
    return records, consumed


def _drop_cr(data: bytes) -> bytes:
    """`data` (lines up to, not including, a final newline) with CRLF endings as LF."""
    data = data.replace(b"\r\n", b"\n")
    return data[:-1] if data.endswith(b"\r") else data


def truncate_long(lines: list[bytes], limit: int) -> tuple[list[int], int] | None:
    """Cut lines longer than `limit` in place (see `cut`); their indices and how many
    had digits masked at the cut, or None when no line is too long."""
    if not lines or max(map(len, lines)) <= limit:
        return None
    hits = [i for i, line in enumerate(lines) if len(line) > limit]
    masked = 0
    for i in hits:
        lines[i], did_mask = cut(lines[i], limit)
        masked += did_mask
    return hits, masked


def cut(line: bytes, limit: int) -> tuple[bytes, bool]:
    """The first `limit` bytes of `line`, with the digits of a digit run that reaches the
    cut masked; and whether any were.

    The redactor sees only what is kept: a card number cut in two is no longer a card
    number to it, yet its first 10-15 digits give the whole number away (the check digit
    gives the rest). So the digits of a run that goes on past the cut never leave.
    """
    head = line[:limit]
    if _IN_RUN.match(line, limit) is None:
        return head, False  # the run ends before the cut: the redactor sees it whole
    return mask_trailing_run(head)


def mask_trailing_run(head: bytes) -> tuple[bytes, bool]:
    """`head` with the digits of the digit run it ends in masked (its rest is unknown or
    gone); and whether it ended in one."""
    run = _RUN_AT_END.search(head, max(0, len(head) - _RUN_WINDOW))
    if run is None:
        return head, False
    masked = run[0].translate(_MASK_DIGITS)
    if masked == run[0]:
        return head, False
    return head[: run.start()] + masked, True


def mask_leading_run(line: bytes) -> bytes:
    """`line` with the digits of the run it starts with masked: the rest of a run whose
    head was shipped (and masked) with a partial line."""
    run = _RUN_AT_START.match(line)  # always matches, perhaps empty
    end = run.end() if run else 0
    return line[:end].translate(_MASK_DIGITS) + line[end:] if end else line
