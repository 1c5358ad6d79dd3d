"""Where the hot path's time goes: each stage on one realistic batch, in process.

A batch is what one 256 KiB read of simulated payment logs gives (about 700 lines of
~360 bytes; ~1.5 % carry card data, ~0.5 % a stack trace). Every stage runs exactly what
`collector run` runs for that batch, in the same order, so the per-stage figures add up to
the flood benchmark's CPU per line (minus the tailing and shipping bookkeeping).

Run: `.venv/bin/python -m pytest benches/test_bench_pipeline.py --benchmark-only`
Per-line cost = the reported time / `LINES`; the figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import msgspec
import pytest
import yaml

from collector.config import Config, parse_config
from collector.flow import LineBatch
from collector.forward.encoder import encode_entries
from collector.metrics.internal import ROUTE
from collector.redact import Redactor
from collector.route.metadata import pod_metadata
from collector.route.records import SourceRoute
from collector.tail.lines import split_records
from tools.simulator import PaymentLogs

READ = 256 * 1024


def _config(mode: str) -> Config:
    return parse_config(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "payment",
                        "paths": ["/var/log/payment/*.log"],
                        "mode": mode,
                        "parser": {"time_key": "ts"},
                    }
                ],
                "forward": {"servers": [{"host": "127.0.0.1"}]},
            }
        )
    )


def _chunk() -> bytes:
    """One read's worth of complete lines; seed 3 has the usual share of card data."""
    data = b"".join(PaymentLogs(seed=3).lines(2000))
    return data[: data.rfind(b"\n", 0, READ) + 1]


CHUNK = _chunk()
LINES, _ = split_records(CHUNK[:-1], None, False)
CONFIGS = {mode: _config(mode) for mode in ("structured", "raw")}
REDACTOR = Redactor(CONFIGS["structured"].redact)
ROUTES = {
    mode: SourceRoute(cfg.sources[0], REDACTOR, cfg.metadata, pod_metadata(cfg.metadata), ROUTE)
    for mode, cfg in CONFIGS.items()
}
FLAGGED = REDACTOR.scan(LINES)


def batch() -> LineBatch:
    return LineBatch(
        source="payment",
        file_key="1:2#0",
        path="/var/log/payment/app.log",
        lines=LINES,
        start_offset=0,
        end_offset=len(CHUNK),
        read_time_ns=time.time_ns(),
        nbytes=len(CHUNK),
    )


def test_batch_is_realistic() -> None:
    mean = len(CHUNK) / len(LINES)
    assert 600 <= len(LINES) <= 900, len(LINES)
    assert 300 <= mean <= 400, mean
    assert 0 < len(FLAGGED) < len(LINES) // 10, len(FLAGGED)


def test_split(benchmark: Any) -> None:
    lines, consumed = benchmark(split_records, CHUNK[:-1], None, False)
    assert len(lines) == len(LINES)
    assert consumed == len(CHUNK)


def test_scan(benchmark: Any) -> None:
    assert benchmark(REDACTOR.scan, LINES) == FLAGGED


def _distinct_batches(count: int) -> list[list[bytes]]:
    data = b"".join(PaymentLogs(seed=11).lines(count * 800))
    out, pos = [], 0
    while len(out) < count:
        end = data.rfind(b"\n", pos, pos + READ)
        out.append(data[pos:end].split(b"\n"))
        pos = end + 1
    return out


def test_scan_distinct_batches(benchmark: Any) -> None:
    """The pre-scan over 20 different batches, each once per round: unlike one batch
    repeated, new data keeps adding states to re2's DFA cache, as in a real flood.
    Per-line cost = the reported time / (20 x ~730)."""
    batches = _distinct_batches(20)

    def scan_all() -> int:
        return sum(len(REDACTOR.scan(b)) for b in batches)

    assert benchmark.pedantic(scan_all, rounds=5, iterations=1) > 0


@pytest.mark.parametrize("mode", ["structured", "raw"])
def test_parse(benchmark: Any, mode: str) -> None:
    result = benchmark(ROUTES[mode].parser.parse, LINES)
    assert len(result.records) == len(LINES)


@pytest.mark.parametrize("mode", ["structured", "raw"])
def test_redact_flagged(benchmark: Any, mode: str) -> None:
    """The careful walk of the flagged records only (the scan picked them)."""
    records = ROUTES[mode].parser.parse(LINES).records
    flagged = [records[i] for i in FLAGGED]
    redact = REDACTOR.redact_record

    def walk(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [redact(r) for r in batch]

    out = benchmark.pedantic(
        walk, setup=lambda: ((copy.deepcopy(flagged),), {}), rounds=50, iterations=1
    )
    assert len(out) == len(FLAGGED)


@pytest.mark.parametrize("mode", ["structured", "raw"])
def test_records(benchmark: Any, mode: str) -> None:
    """SourceRoute.records: scan, parse, flags, redaction of the flagged, enrichment."""
    records, _ = benchmark(ROUTES[mode].records, batch())
    assert len(records) == len(LINES)


@pytest.mark.parametrize("mode", ["structured", "raw"])
def test_encode(benchmark: Any, mode: str) -> None:
    records, times = ROUTES[mode].records(batch())
    assert benchmark(encode_entries, records, times, time.time_ns())


class _NoRedaction(Redactor):
    """The baseline of the redaction budget: the pre-scan flags nothing, nothing is walked."""

    def scan(self, lines: list[bytes]) -> list[int]:
        return []


BASELINE_ROUTES = {
    mode: SourceRoute(
        cfg.sources[0], _NoRedaction(cfg.redact), cfg.metadata, pod_metadata(cfg.metadata), ROUTE
    )
    for mode, cfg in CONFIGS.items()
}


@pytest.mark.parametrize("redaction", ["on", "off"])
@pytest.mark.parametrize("mode", ["structured", "raw"])
def test_whole_batch(benchmark: Any, mode: str, redaction: str) -> None:
    """What Pipeline._process does for a batch, minus the chunking and the socket; `off`
    is the same pipeline without redaction, so on - off is what redaction adds."""
    route = ROUTES[mode] if redaction == "on" else BASELINE_ROUTES[mode]

    def process() -> int:
        b = batch()
        records, times = route.records(b)
        size = 0
        for _tag, recs, tms in route.groups(b.path, records, times):
            size += len(encode_entries(recs, tms, b.read_time_ns))
        return size

    assert benchmark(process) > len(CHUNK) // 2


_decode = msgspec.json.Decoder()
_encode = msgspec.msgpack.Encoder()


def test_no_redaction_baseline(benchmark: Any) -> None:
    """The floor of structured mode: split, one decode and one encode per line, no scan,
    no redaction, no event time; what the issue calls the straightforward loop."""

    def loop() -> bytes:
        lines = CHUNK[:-1].split(b"\n")
        return _encode.encode([_decode.decode(line) for line in lines])

    assert benchmark(loop)
