"""The pre-scan: line mapping, both engines, escapes."""

from __future__ import annotations

import pytest

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from collector.redact.scan import flagged_lines

ENGINES = ["re", "re2"]
PAN = b"4111111111111111"


@pytest.fixture(params=ENGINES)
def redactor(request: pytest.FixtureRequest) -> Redactor:
    return Redactor(RedactConfig(scan_engine=request.param))


def test_maps_matches_to_lines(redactor: Redactor) -> None:
    lines = [b"a", b"card " + PAN, b"b", b"", b"cvv=1 " + PAN + b" " + PAN, b"z"]
    assert redactor.scan(lines) == [1, 4]
    assert redactor.scan([]) == []
    assert redactor.scan([PAN]) == [0]


def test_lines_holding_newlines_map_by_offsets(redactor: Redactor) -> None:
    lines = [b"x\ny", b"q\n" + PAN, b"w", b"\n\n" + PAN]
    assert redactor.scan(lines) == [1, 3]


@pytest.mark.parametrize(
    "line",
    [
        rb'{"m":"\u0034111111111111111"}',
        rb'{"m":"4111\u00201111\u00201111\u00201111"}',
        rb'{"\u0063vv":"123"}',
        rb'{"m":"\u00e94111111111111111"}',
        b'{"f":4.1e+15}',
        b'{"m":"x%204111%201111%201111%201111"}',
    ],
)
def test_escaped_forms_are_flagged(redactor: Redactor, line: bytes) -> None:
    assert redactor.scan([b"{}", line]) == [1]


def test_escaped_key_names_are_redacted_after_decoding(redactor: Redactor) -> None:
    import msgspec

    line = rb'{"\u0063vv":"123"}'
    assert redactor.scan([line]) == [0]
    assert redactor.redact_record(msgspec.json.decode(line)) == {"cvv": "[REDACTED]"}


def test_engines_agree_on_a_realistic_batch() -> None:
    from tests.redact.linegen import realistic_batch, worst_case_batch

    lines = realistic_batch(500) + worst_case_batch(20)
    results = {e: Redactor(RedactConfig(scan_engine=e)).scan(lines) for e in ENGINES}
    assert results["re"] == results["re2"]


def test_flagged_lines_handles_empty_matches() -> None:
    import re

    assert flagged_lines(re.compile(b"x*"), [b"a", b"b"]) == [0, 1]
