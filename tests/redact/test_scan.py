"""The pre-scan: line indices, escapes, custom rules, and the road without the C."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.redact import Redactor
from collector.redact.config import CustomRule, RedactConfig
from collector.redact.scan import flagged_lines

PAN = b"4111111111111111"
REDACTOR = Redactor(RedactConfig())


def test_maps_lines_to_indices() -> None:
    lines = [b"a", b"card " + PAN, b"b", b"", b"cvv=1 " + PAN + b" " + PAN, b"z"]
    assert REDACTOR.scan(lines) == [1, 4]
    assert REDACTOR.scan([]) == []
    assert REDACTOR.scan([PAN]) == [0]


def test_lines_holding_newlines() -> None:
    lines = [b"x\ny", b"q\n" + PAN, b"w", b"\n\n" + PAN]
    assert REDACTOR.scan(lines) == [1, 3]


@pytest.mark.parametrize(
    "line",
    [
        rb'{"m":"\u0034111111111111111"}',
        rb'{"m":"4111\u00201111\u00201111\u00201111"}',
        rb'{"\u0063vv":"123"}',
        b'{"f":4.1e+15}',
        b'{"m":"x%204111%201111%201111%201111"}',
        b'{"m":"&#52;111111111111111"}',
        '{"m":"4111\u00a01111\u00a01111\u00a01111"}'.encode(),
        '{"m":"\uff14\uff11\uff11\uff11111111111111"}'.encode(),
        b'{"m":"4111\\t1111\\t1111\\t1111"}',
        b'{"m":"x\\ncvv: 123"}',
    ],
)
def test_escaped_and_unicode_forms_are_flagged(line: bytes) -> None:
    assert REDACTOR.scan([b"{}", line]) == [1]


def test_escaped_key_names_are_redacted_after_decoding() -> None:
    line = rb'{"\u0063vv":"123"}'
    assert REDACTOR.scan([line]) == [0]
    assert REDACTOR.redact_record(msgspec.json.decode(line)) == {"cvv": "[REDACTED]"}


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.text("4a\n", max_size=12).map(str.encode), max_size=12))
def test_flagged_lines_are_the_lines_holding_a_match(lines: list[bytes]) -> None:
    import re

    pattern = re.compile(b"(?m)4a4|^a{2}$")  # matches never span a newline
    expected = [i for i, line in enumerate(lines) if pattern.search(line)]
    assert flagged_lines(pattern, lines) == expected


def test_without_the_c_extension_every_line_is_walked(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A source tree used without `pip install` has no `_prefilter`: every line and every
    string goes to the careful pass (slow, the same result), with a warning."""
    import collector.redact.redactor as module
    from tests.redact.linegen import realistic_batch

    monkeypatch.setattr(module, "load_prefilter", lambda names: None)
    with caplog.at_level("WARNING", logger="collector.redact"):
        slow = Redactor(RedactConfig())
    assert slow._line_scan is None
    assert "not built" in caplog.text
    lines = [*realistic_batch(200), b'{"m":"card ' + PAN + b'"}']
    assert slow.scan(lines) == list(range(len(lines)))
    records = [msgspec.json.decode(line) for line in lines]
    fast_records = [msgspec.json.decode(line) for line in lines]
    slow.redact_records(records, slow.scan(lines))
    REDACTOR.redact_records(fast_records, REDACTOR.scan(lines))
    assert records == fast_records


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        (r"^secret-[0-9]+$", "secret-42"),
        (r"\bsecret\b", "a secret b"),
        (r"(?<=x)secret", "xsecret"),
    ],
)
def test_custom_rules_anchored_apply_to_every_string_they_match(pattern: str, value: str) -> None:
    """Issue 16, 4: a rule whose match depends on its surroundings cannot be judged on the
    raw line (`^…$` never matches a JSON line around the value): every line is walked."""
    r = Redactor(RedactConfig(custom_rules=[CustomRule(name="s", pattern=pattern)]))
    lines = [b'{"m":"plain"}', msgspec.json.encode({"m": value}), b'{"n":"also plain"}']
    flagged = r.scan(lines)
    assert 1 in flagged
    records = [msgspec.json.decode(line) for line in lines]
    r.redact_records(records, flagged)
    assert records[1]["m"] != value
    assert records[0] == {"m": "plain"}
    assert r.redact_text(value) != value


def test_the_unicode_table_handed_to_the_c_is_the_normalisers_own() -> None:
    """`unicode_ranges` asks only the first two planes (start-up cost); it must still be
    every code point `unicode_class` changes, on this Python's Unicode database."""
    from collector.redact.normalize import unicode_class, unicode_ranges

    slow: list[tuple[int, int]] = []
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF or unicode_class(chr(cp)) == chr(cp):
            continue
        if slow and slow[-1][1] == cp - 1:
            slow[-1] = (slow[-1][0], cp)
        else:
            slow.append((cp, cp))
    assert unicode_ranges() == slow
