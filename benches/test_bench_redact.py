"""Cost of redaction on the hot path, against the same batch without it.

Run: .venv/bin/python -m pytest benches/test_bench_redact.py --benchmark-only \
         --benchmark-columns=median,min,rounds

Each benchmark handles one batch of BATCH lines; divide the median by BATCH for the cost
per line. `baseline_decode` is the no-redaction path (decode every line, as the pipeline
does anyway); the redaction cost added is `scan_and_walk` (pre-scan the raw lines, walk the
flagged records). `[c]` is the collector as installed (the C pre-scan); `[none]` the same
without the extension (every line walked), what a source tree used unbuilt runs.
Figures and the machine they came from are in docs/redaction.md.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from collector.redact import Redactor
from collector.redact import redactor as redactor_module
from collector.redact.config import RedactConfig
from tests.redact.linegen import realistic_batch, worst_case_batch

BATCH = 5000
_decoder = msgspec.json.Decoder()
REALISTIC = realistic_batch(BATCH)
WORST = worst_case_batch(BATCH // 10)


def _redactor(prescan: str = "c", **cfg: Any) -> Redactor:
    """The redactor with the C pre-scan (`c`) or as without the extension (`none`)."""
    if prescan == "c":
        return Redactor(RedactConfig(**cfg))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redactor_module, "load_prefilter", lambda names: None)
        return Redactor(RedactConfig(**cfg))


def _decode(lines: list[bytes]) -> list[Any]:
    return [_decoder.decode(line) for line in lines]


def _scan_and_walk(redactor: Redactor, lines: list[bytes], records: list[Any]) -> int:
    flagged = redactor.scan(lines)
    for i in flagged:
        redactor.redact_record(records[i])
    return len(flagged)


def test_baseline_decode(benchmark: Any) -> None:
    benchmark.extra_info["lines"] = BATCH
    benchmark(_decode, REALISTIC)


def test_scan_only_realistic(benchmark: Any) -> None:
    redactor = _redactor("c")
    benchmark.extra_info["lines"] = BATCH
    benchmark.extra_info["flagged"] = len(redactor.scan(REALISTIC))
    benchmark(redactor.scan, REALISTIC)


def _scan_and_walk_batch(redactor: Redactor, lines: list[bytes], records: list[Any]) -> int:
    flagged = redactor.scan(lines)
    redactor.redact_records(records, flagged)
    return len(flagged)


def _fresh(lines: list[bytes]) -> Any:
    """Setup for pedantic runs: the walk may patch records in place, so each round gets
    newly decoded ones (decoding is not timed)."""
    return lambda: ((lines, _decode(lines)), {})


def test_scan_and_walk_realistic(benchmark: Any) -> None:
    redactor = Redactor(RedactConfig())
    benchmark.extra_info["lines"] = BATCH
    benchmark.pedantic(
        lambda lines, records: _scan_and_walk(redactor, lines, records),
        setup=_fresh(REALISTIC),
        rounds=40,
    )


def test_scan_and_walk_batch_realistic(benchmark: Any) -> None:
    """The same through `redact_records`: one trigger call and one counter update per batch."""
    redactor = _redactor("c")
    benchmark.extra_info["lines"] = BATCH
    benchmark.pedantic(
        lambda lines, records: _scan_and_walk_batch(redactor, lines, records),
        setup=_fresh(REALISTIC),
        rounds=40,
    )


def test_walk_every_record_realistic(benchmark: Any) -> None:
    """What the pre-scan saves: the careful walk on every line."""
    redactor = Redactor(RedactConfig())
    benchmark.extra_info["lines"] = BATCH
    benchmark.pedantic(
        lambda lines, records: [redactor.redact_record(r) for r in records],
        setup=_fresh(REALISTIC),
        rounds=5,
    )


def test_scan_and_walk_worst_case(benchmark: Any) -> None:
    redactor = _redactor("c")
    benchmark.extra_info["lines"] = len(WORST)
    benchmark.pedantic(
        lambda lines, records: _scan_and_walk(redactor, lines, records),
        setup=_fresh(WORST),
        rounds=10,
    )
