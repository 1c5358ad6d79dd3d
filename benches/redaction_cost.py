"""What redaction adds to the hot path, in process: the pipeline with and without it.

The issue's budget (#4) is CPU per million lines of the simulator's flood "over the same
pipeline without it". The flood benchmark (`benches.flood --no-redact`) measures that on
the whole collector, but on a shared VM its run-to-run noise (±20 %) is larger than the
difference. This runs the per-batch work of `Pipeline._process` (split, pre-scan, parse,
walk of the flagged, enrichment, encode) over the same lines with the real redactor and
with one whose pre-scan flags nothing, interleaved, and reports medians; `--once` runs one
pass for an instruction count under callgrind, which the machine's noise does not move:

    python -m benches.redaction_cost --lines 200000 --rounds 7
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python -m benches.redaction_cost --once on --lines 20000   # then off, then none
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import yaml

from collector.config import Config, parse_config
from collector.flow import LineBatch
from collector.forward.encoder import encode_entries
from collector.redact import Redactor
from collector.redact.scan import prefilter_form
from collector.route.metadata import pod_metadata
from collector.route.records import SourceRoute
from collector.tail.lines import split_records
from tools.simulator import PaymentLogs

READ = 64 * 1024  # the default read_chunk_bytes: one batch per read


class NoRedaction(Redactor):
    """The baseline: the pre-scan flags nothing, so nothing is walked."""

    def scan(self, lines: list[bytes]) -> list[int]:
        return []


def _config(mode: str) -> Config:
    source = {"name": "payment", "paths": ["/x/*.log"], "mode": mode, "parser": {"time_key": "ts"}}
    doc = {"sources": [source], "forward": {"servers": [{"host": "127.0.0.1"}]}}
    return parse_config(yaml.safe_dump(doc))


def batches(lines: int, seed: int) -> list[list[bytes]]:
    """The simulator's lines cut as the tailer cuts them: one batch per 64 KiB read."""
    data = b"".join(PaymentLogs(seed=seed).lines(lines))
    out, pos = [], 0
    while pos < len(data):
        end = data.rfind(b"\n", pos, pos + READ) + 1 or len(data)
        out.append(split_records(data[pos : end - 1], None, False)[0])
        pos = end
    return out


def route(cfg: Config, redacting: bool) -> SourceRoute:
    redactor = Redactor(cfg.redact) if redacting else NoRedaction(cfg.redact)
    return SourceRoute(cfg.sources[0], redactor, cfg.metadata, pod_metadata(cfg.metadata))


def run(r: SourceRoute, work: list[list[bytes]]) -> int:
    size = 0
    for lines in work:
        batch = LineBatch(
            source="payment",
            file_key="1:2#0",
            path="/x/app.log",
            lines=lines,
            start_offset=0,
            end_offset=1,
            read_time_ns=time.time_ns(),
            nbytes=sum(map(len, lines)),
        )
        records, times = r.records(batch)
        for _tag, recs, tms in r.groups(batch.path, records, times):
            size += len(encode_entries(recs, tms, batch.read_time_ns))
    return size


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--mode", choices=("structured", "raw"), default="structured")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--once",
        choices=("on", "off", "none"),
        help="one pass, for callgrind (`none`: only make the lines, to subtract)",
    )
    args = p.parse_args(argv)
    cfg = _config(args.mode)
    work = batches(args.lines, args.seed)
    n = sum(map(len, work))
    routes = {"on": route(cfg, True), "off": route(cfg, False)}
    if args.once:
        if args.once != "none":
            run(routes[args.once], work)
        return 0
    flagged = sum(len(routes["on"].redactor.scan(b)) for b in work)
    per_line: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(args.rounds):
        for key in ("on", "off"):
            start = time.process_time()
            run(routes[key], work)
            per_line[key].append((time.process_time() - start) / n * 1e6)
    on, off = (statistics.median(per_line[k]) for k in ("on", "off"))
    diffs = sorted(a - b for a, b in zip(per_line["on"], per_line["off"], strict=True))
    report: dict[str, Any] = {
        "mode": args.mode,
        "lines": n,
        "pre-scan": prefilter_form(),
        "flagged %": round(100 * flagged / n, 2),
        "with redaction, us/line (median)": round(on, 3),
        "without, us/line (median)": round(off, 3),
        "redaction adds, us/line = CPU-s per M lines": round(on - off, 3),
        "  from the fastest rounds (min on - min off)": round(
            min(per_line["on"]) - min(per_line["off"]), 3
        ),
        "  per-round differences (min / median / max)": (
            f"{diffs[0]:.3f} / {statistics.median(diffs):.3f} / {diffs[-1]:.3f}"
        ),
    }
    width = max(map(len, report))
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
