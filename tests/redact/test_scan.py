"""The pre-scan: line mapping, both engines, escapes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from collector.redact.scan import TwoStage, flagged_lines

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


# --- the two-step scan is the full pattern's scan, line for line -----------------------
_PIECES = [
    *"0123456789",
    *" .-+_=^:;\"'#/?&",
    "%20",
    "%2D",
    "%34",
    "%3A",
    "\\u0034",
    "\\\\u0034",
    "\\u0020",
    "\\u00e9",
    "\\u0063",
    "\\x34",
    "e+15",
    "E16",
    "5A08",
    "DE2",
    "B",
    "D",
    *"abcdefABCDEFgGxyzZ",
    "4111",
    "111111",
    "5500 0000",
    "cvv",
    "CVC",
    "security_code",
    "Exp",
    "pin",
    "track2",
]


def _full_and_two_stage(engine: str) -> tuple[Any, Any]:
    redactor = Redactor(RedactConfig(scan_engine=engine))
    two = redactor._scan
    assert isinstance(two, TwoStage)
    return two.full, two


MATCHERS = {e: _full_and_two_stage(e) for e in ENGINES}


# Runs of 11-16 digit units, each written in any form, with or without separators: the
# stretches the full pattern's card branches look for.
_UNITS = st.lists(
    st.tuples(
        st.sampled_from(["", "", "", " ", "-", ".", "+", "%20", "%2d", "\\u0020", "\\x2e"]),
        st.sampled_from([*"0123456789", *"4455", "%34", "%31", "\\u0035", "\\\\u0031", "\\x36"]),
    ),
    min_size=11,
    max_size=16,
).map(lambda units: "".join(sep + digit for sep, digit in units))
_LINE = st.lists(st.one_of(st.sampled_from(_PIECES), _UNITS), max_size=30).map("".join)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, min_size=1, max_size=6))
def test_two_step_scan_flags_the_lines_the_full_pattern_flags(lines: list[str]) -> None:
    encoded = [line.encode() for line in lines]
    for engine, (full, two) in MATCHERS.items():
        same_lines = flagged_lines(full, encoded) == flagged_lines(two, encoded)
        assert same_lines, f"{engine}: the two-step scan and the full pattern disagree"


def test_two_step_scan_agrees_on_realistic_and_worst_case_batches() -> None:
    from tests.redact.linegen import realistic_batch, worst_case_batch

    lines = realistic_batch(1000) + worst_case_batch(50)
    lines += [b"a\nb " + PAN + b"\nc", b"x\ny"]  # lines holding newlines: the offsets path
    for engine, (full, two) in MATCHERS.items():
        expected = flagged_lines(full, lines)
        assert expected, "the batch should hold card data"
        assert flagged_lines(two, lines) == expected, f"{engine}: two-step scan differs"


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.text("4a\n", max_size=12).map(str.encode), max_size=12))
def test_flagged_lines_are_the_lines_holding_a_match(lines: list[bytes]) -> None:
    import re

    pattern = re.compile(b"(?m)4a4|^a{2}$")  # matches never span a newline
    expected = [i for i, line in enumerate(lines) if pattern.search(line)]
    assert flagged_lines(pattern, lines) == expected


def test_without_the_c_extension_the_regex_scan_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A source tree used without `pip install` has no `_prefilter`: same flags, a warning."""
    import collector.redact.redactor as module
    from tests.redact.linegen import realistic_batch

    monkeypatch.setattr(module, "load_prefilter", lambda names: None)
    with caplog.at_level("WARNING", logger="collector.redact"):
        slow = Redactor(RedactConfig())
    assert slow._line_scan is None
    assert "not built" in caplog.text
    lines = [*realistic_batch(500), b"card " + PAN]
    assert slow.scan(lines) == Redactor(RedactConfig()).scan(lines)
    assert slow.scan(lines)[-1] == len(lines) - 1


def test_where_the_c_has_no_vector_form_the_regex_scan_picks_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On CPUs without SSE2/AVX2 the C byte loop is slower than RE2: the regex pre-scan
    picks the lines, and the C still serves the walk."""
    import collector.redact.redactor as module
    from tests.redact.linegen import realistic_batch

    monkeypatch.setattr(module, "prefilter_form", lambda: "scalar")
    redactor = Redactor(RedactConfig())
    assert redactor._line_scan is None
    lines = [*realistic_batch(300), b"card " + PAN]
    assert redactor.scan(lines) == flagged_lines(redactor._scan, lines)
    assert redactor.redact_text("card " + PAN.decode()) != "card " + PAN.decode()
