from collector.tail.config import MultilineConfig
from collector.tail.lines import joiner_for, split_records, truncate_long


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


def test_truncate_long_marks_only_long_lines() -> None:
    lines = [b"short", b"x" * 100, b"ok"]
    assert truncate_long(lines, 10) == [1]
    assert lines == [b"short", b"x" * 10, b"ok"]
    assert truncate_long([b"a", b"b"], 10) is None
