from collector.tail.config import MultilineConfig
from collector.tail.lines import cut, joiner_for, split_records, truncate_long
from tests.tail.helpers import TEST_CARD


def test_plain_split_consumes_through_last_newline() -> None:
    lines, consumed = split_records(b"a\nbb\nccc", None, hold_last=True)
    assert lines == [b"a", b"bb", b"ccc"]
    assert consumed == len(b"a\nbb\nccc\n")


def test_java_joins_stack_trace_and_holds_last_record() -> None:
    data = (
        b"2024-01-01 ERROR boom\n"
        b"java.lang.IllegalStateException: x\n"
        b"\tat a.B.c(B.java:1)\n"
        b"Caused by: java.io.IOException: y\n"
        b"\t... 3 more\n"
        b"2024-01-01 INFO next"
    )
    joiner = joiner_for(MultilineConfig(mode="java"))
    records, consumed = split_records(data, joiner, hold_last=True)
    # the exception line, its frames and causes all join the log line they belong to
    assert len(records) == 1
    assert records[0].startswith(b"2024-01-01 ERROR boom\njava.lang.IllegalStateException")
    assert b"Caused by:" in records[0] and records[0].endswith(b"... 3 more")
    assert consumed == data.index(b"2024-01-01 INFO next")


def test_start_pattern_joins_until_next_start() -> None:
    joiner = joiner_for(MultilineConfig(mode="start_pattern", start_pattern=r"^\d{4}-"))
    data = b"2024-01-01 a\nmore\nstill more\n2024-01-02 b"
    records, consumed = split_records(data, joiner, hold_last=False)
    assert records == [b"2024-01-01 a\nmore\nstill more", b"2024-01-02 b"]
    assert consumed == len(data) + 1


def test_every_alternative_of_a_start_pattern_is_anchored_at_line_start() -> None:
    """`^INFO|^ERROR` starts a record at INFO and at ERROR lines, and nowhere else."""
    joiner = joiner_for(MultilineConfig(mode="start_pattern", start_pattern=r"^INFO|^ERROR"))
    data = b"INFO a\n  detail with ERROR inside\nERROR b\nat x\nINFO c"
    records, _ = split_records(data, joiner, hold_last=False)
    assert records == [b"INFO a\n  detail with ERROR inside", b"ERROR b\nat x", b"INFO c"]


def test_truncate_long_marks_only_long_lines() -> None:
    lines = [b"short", b"x" * 100, b"ok"]
    assert truncate_long(lines, 10) == ([1], 0)
    assert lines == [b"short", b"x" * 10, b"ok"]
    assert truncate_long([b"a", b"b"], 10) is None


_PAN = TEST_CARD
_FORMS = {
    "plain": _PAN,
    "spaced": " ".join(_PAN[i : i + 4] for i in range(0, 16, 4)),
    "dashed": "-".join(_PAN[i : i + 4] for i in range(0, 16, 4)),
    "escaped": "".join(f"\\u003{d}" for d in _PAN),
}


def test_a_cut_inside_a_card_number_ships_none_of_its_digits() -> None:
    for form, written in _FORMS.items():
        line = b'{"note":"paid with ' + written.encode() + b' today"}'
        start = line.index(written.encode())
        for limit in range(start + 1, start + len(written)):
            head, masked = cut(line, limit)
            assert len(head) == limit
            assert not _digits(head[start:]), f"{form}: digits left at cut {limit - start}"
            assert masked or not _digits(line[start:limit]), f"{form}: no flag at {limit - start}"


def _digits(data: bytes) -> bytes:
    """The card digits in `data`, escaped ones included (the escape's own 0s are not)."""
    return bytes(c for c in data.replace(b"\\u003", b"") if c in b"0123456789")


def test_a_cut_after_a_whole_number_keeps_it_for_the_redactor() -> None:
    line = b"amount 12345 then text that goes on"
    head, masked = cut(line, line.index(b" then") + 2)
    assert head.startswith(b"amount 12345 t") and not masked


def test_truncate_long_reports_masked_cuts() -> None:
    lines = [b"ok", b"pan " + _PAN.encode()]
    assert truncate_long(lines, 10) == ([1], 1)
    assert lines[1] == b"pan ******"


def test_crlf_line_endings_are_not_part_of_records() -> None:
    lines, consumed = split_records(b"a\r\nb\r\r\nc\rd\r", None, hold_last=True)
    assert lines == [b"a", b"b\r", b"c\rd"]
    assert consumed == len(b"a\r\nb\r\r\nc\rd\r\n")
    joiner = joiner_for(MultilineConfig(mode="java"))
    data = b"ERROR boom\r\n\tat a.B(B.java:1)\r\nINFO next\r\nINFO held"
    records, consumed = split_records(data, joiner, hold_last=True)
    assert records == [b"ERROR boom\n\tat a.B(B.java:1)", b"INFO next"]
    assert consumed == data.index(b"INFO held")
