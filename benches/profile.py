"""Summarise a py-spy profile of `collector run` by stage: where the CPU of a flood goes.

`python -m benches.flood --profile spy.txt` records collapsed stacks (py-spy `--format
raw`: `frame;frame;... count` per line); this prints the share of samples per stage (the
innermost frame that belongs to a known stage wins) and the top functions by self time.

    python -m benches.profile spy.txt
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

# Innermost match wins, so more specific stages come first in each stack walk.
STAGES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("startup (imports, config)", re.compile(r"<frozen importlib|_find_and_load")),
    ("redact: pre-scan", re.compile(r"collector/redact/scan\.py|Redactor\.scan ")),
    ("redact: careful walk", re.compile(r"collector/redact/")),
    ("parse: event time", re.compile(r"collector/parse/eventtime\.py")),
    ("parse: JSON decode", re.compile(r"collector/parse/")),
    ("forward: encode entries", re.compile(r"encode_entries ")),
    ("forward: chunk, send, acks", re.compile(r"collector/forward/")),
    ("records: flags, enrich, metrics", re.compile(r"collector/records\.py")),
    ("tail: read, split, checkpoints", re.compile(r"collector/tail/")),
    ("pipeline wiring", re.compile(r"collector/pipeline\.py")),
    ("metrics", re.compile(r"collector/metrics/|prometheus_client")),
    ("event loop, sockets", re.compile(r"asyncio/")),
)


def stage_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in STAGES:
            if pattern.search(frame):
                return name
    return "other"


def summarise(path: str, top: int = 20) -> str:
    stages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            stages[stage_of(frames)] += n
            functions[frames[-1]] += n
    out = [f"{total} samples", "", "share  stage"]
    out += [f"{100 * n / total:4.1f}%  {name}" for name, n in stages.most_common()]
    out += ["", "self   function (file:line)"]
    out += [f"{100 * n / total:4.1f}%  {name}" for name, n in functions.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benches.profile", description=__doc__)
    p.add_argument("profile", help="py-spy --format raw output")
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    print(summarise(args.profile, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
