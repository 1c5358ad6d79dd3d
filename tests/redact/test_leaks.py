"""Issue 13's acceptance, per hiding style: nothing planted survives the whole path.

Every style of `hiding.py` x every brand and length x every position, shipped through
`support.ship` (pre-scan, JSON shortcut, walk: what records.py does), then judged by
`oracles.judge`. One test per style and per property, so a report names the style that
leaked and, in the message, the positions and brand/lengths (never a value).

Seeds: `REDACT_SEEDS=0-9` widens the sweep (default: seed 0); `python -m
tests.redact.evaluate` prints the per-style table across many seeds.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from functools import cache

import msgspec
import pytest

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from tests.redact.hiding import STYLES, Case, Style, cases, embeds, style
from tests.redact.oracles import Verdict, judge, reference_cards
from tests.redact.support import ship, ship_raw


def seeds_from_env(default: str = "0") -> range:
    spec = os.environ.get("REDACT_SEEDS", default)
    first, _, last = spec.partition("-")
    return range(int(first), int(last or first) + 1)


@dataclass
class Outcome:
    case: Case
    verdict: Verdict
    reference_cards_out: int


@cache
def _redactor() -> Redactor:
    return Redactor(RedactConfig())


@cache
def shipped(name: str) -> tuple[Outcome, ...]:
    """Every case of a style, shipped as one batch, judged (computed once per style)."""
    all_cases = list(cases(seeds_from_env(), styles=(style(name),)))
    records = ship(_redactor(), [c.line for c in all_cases])
    return tuple(
        Outcome(case, judge(case, out), reference_cards(out))
        for case, out in zip(all_cases, records, strict=True)
    )


def _where(outcomes: list[Outcome]) -> str:
    """Positions and brand/lengths of the failing cases: never a value."""
    positions = Counter(o.case.position for o in outcomes)
    brands = Counter(f"{o.case.brand}/{o.case.length}" for o in outcomes)
    return (
        f"by position {dict(positions.most_common())}; "
        f"by brand/length {dict(brands.most_common(8))}"
    )


IDS = [s.name for s in STYLES]


@pytest.mark.parametrize("st", STYLES, ids=IDS)
def test_no_pan_survives(st: Style) -> None:
    outcomes = shipped(st.name)
    bad = [o for o in outcomes if o.verdict.pan_leaks]
    assert len(bad) == 0, (
        f"[{st.name}] a planted PAN is readable in {len(bad)}/{len(outcomes)} " + _where(bad)
    )


@pytest.mark.parametrize("st", [s for s in STYLES if s.kind != "pan"], ids=lambda s: s.name)
def test_no_sad_survives(st: Style) -> None:
    outcomes = shipped(st.name)
    bad = [o for o in outcomes if sum(o.verdict.sad_leaks.values())]
    kinds = Counter(k for o in bad for k in o.verdict.sad_leaks)
    assert len(bad) == 0, (
        f"[{st.name}] SAD survives in {len(bad)}/{len(outcomes)} (of kinds {sorted(kinds)}) "
        + _where(bad)
    )


@pytest.mark.parametrize("st", STYLES, ids=IDS)
def test_reference_finds_no_card_in_output(st: Style) -> None:
    """The differential on generated inputs: a window the reference calls a card (Luhn,
    brand, length, no exemption) is never in what ships."""
    outcomes = shipped(st.name)
    bad = [o for o in outcomes if o.reference_cards_out]
    assert len(bad) == 0, f"[{st.name}] the reference still finds a card in {len(bad)} " + _where(
        bad
    )


@pytest.mark.parametrize("st", STYLES, ids=IDS)
def test_masks_show_at_most_first6_last4(st: Style) -> None:
    outcomes = shipped(st.name)
    bad = [o for o in outcomes if o.verdict.overexposed]
    assert len(bad) == 0, f"[{st.name}] over-exposed mask in {len(bad)} " + _where(bad)


@pytest.mark.parametrize("st", [s for s in STYLES if embeds(s)], ids=lambda s: s.name)
def test_embedded_documents_still_parse(st: Style) -> None:
    outcomes = [o for o in shipped(st.name) if o.case.embedded]
    bad = [o for o in outcomes if o.verdict.broken]
    kinds = Counter(o.case.embedded for o in bad)
    assert len(bad) == 0, (
        f"[{st.name}] embedded {dict(kinds)} no longer parses (or lost keys) in "
        f"{len(bad)}/{len(outcomes)} " + _where(bad)
    )


@pytest.mark.parametrize("st", [s for s in STYLES if s.kind == "gateway" or s.name ==
                                "embedded_json_card"], ids=lambda s: s.name)  # fmt: skip
def test_result_fields_beside_card_data_kept(st: Style) -> None:
    outcomes = shipped(st.name)
    bad = [o for o in outcomes if o.verdict.changed_keep]
    assert len(bad) == 0, (
        f"[{st.name}] a result field was changed or removed in {len(bad)} " + _where(bad)
    )


RAW_POSITIONS = ("whole", "start", "middle", "end", "quoted", "punct")


@cache
def shipped_raw(name: str) -> tuple[Outcome, ...]:
    """The same messages as raw text lines (the `text` parser, Net::HTTP wire logs):
    the pre-scan on raw bytes, then `redact_text`."""
    picked = [
        c
        for c in cases(seeds_from_env(), styles=(style(name),))
        if c.path == ("msg",) and c.position in RAW_POSITIONS
    ]
    lines = [msgspec.json.decode(c.line)["msg"].encode() for c in picked]
    out = ship_raw(_redactor(), lines)
    return tuple(
        Outcome(case, judge(case, {"msg": text}), reference_cards({"msg": text}))
        for case, text in zip(picked, out, strict=True)
    )


RAW_STYLES = [s for s in STYLES if set(s.positions) & set(RAW_POSITIONS) and s.kind != "context"]


@pytest.mark.parametrize("st", RAW_STYLES, ids=lambda s: s.name)
def test_raw_text_lines_leak_nothing(st: Style) -> None:
    outcomes = shipped_raw(st.name)
    bad = [o for o in outcomes if o.verdict.leaked or o.reference_cards_out]
    assert len(bad) == 0, f"[{st.name}] raw text line leaks in {len(bad)}/{len(outcomes)} " + (
        _where(bad)
    )


def test_generator_covers_the_brief() -> None:
    """At least 40 styles; every brand and length the table issues; every position."""
    assert len(STYLES) >= 40
    positions = {p for s in STYLES for p in s.positions}
    for needed in ("whole", "start", "middle", "end", "quoted", "punct", "newline", "key",
                   "array", "number"):  # fmt: skip
        assert needed in positions, needed
    lengths = {c.length for c in cases(range(1), styles=(style("plain"),))}
    assert lengths == set(range(13, 20))
    short = {c.length for c in cases(range(1), styles=(style("short_pan_under_key"),))}
    assert short == {12, 13}


@pytest.mark.slow
def test_many_seeds_no_leak_in_any_style() -> None:
    """Seeds 1-3 of every style (the per-style tests run seed 0, or REDACT_SEEDS)."""
    redactor = _redactor()
    leaking: Counter[str] = Counter()
    for seed in range(1, 4):
        for st in STYLES:
            batch = list(cases(range(seed, seed + 1), styles=(st,)))
            for case, out in zip(batch, ship(redactor, [c.line for c in batch]), strict=True):
                v = judge(case, out)
                leaking[st.name] += bool(v.leaked or v.overexposed or v.broken)
    bad = {name: n for name, n in leaking.items() if n}
    assert not bad, f"styles with a leak, an over-exposed mask or broken syntax: {bad}"
