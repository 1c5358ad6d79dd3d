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


def joiner_for(cfg: MultilineConfig) -> re.Pattern[bytes] | None:
    """The regex whose matches are the newlines that separate records, or None (every newline)."""
    if cfg.mode == "java":
        return re.compile(rb"\n(?!" + _JAVA_CONTINUATION + rb")")
    if cfg.mode == "start_pattern":
        assert cfg.start_pattern is not None
        start = cfg.start_pattern.removeprefix("^").encode()
        return re.compile(rb"\n(?=" + start + rb")")
    return None


def split_records(
    complete: bytes, joiner: re.Pattern[bytes] | None, hold_last: bool
) -> tuple[list[bytes], int]:
    """Split `complete` (bytes up to, not including, a newline) into records.

    Returns the records and how many bytes of `complete` (+1 for its final newline when
    everything is consumed) they cover. With `hold_last`, the last record is kept back,
    because the next read may bring its continuation lines.
    """
    if joiner is None:
        return complete.split(b"\n"), len(complete) + 1
    records = joiner.split(complete)
    if hold_last:
        last = records.pop()
        return records, len(complete) - len(last)
    return records, len(complete) + 1


def truncate_long(lines: list[bytes], limit: int) -> list[int] | None:
    """Truncate lines longer than `limit` in place; returns their indices, or None."""
    if not lines or max(map(len, lines)) <= limit:
        return None
    hits = [i for i, line in enumerate(lines) if len(line) > limit]
    for i in hits:
        lines[i] = lines[i][:limit]
    return hits
