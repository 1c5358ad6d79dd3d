"""Per-style leak figures and the false-positive rate, across many seeds.

    python -m tests.redact.evaluate                  # seeds 0-9, 5,000 clean lines per seed

Every case of `hiding.py` (style x brand x length x position, per seed) goes through
`support.ship` (pre-scan, JSON shortcut, walk) and `oracles.judge`; the clean corpus goes
through the same road. Prints counts only, never a value.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter

import msgspec

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from tests.redact.clean_corpus import clean_lines
from tests.redact.hiding import STYLES, cases
from tests.redact.oracles import judge, leaves, reference_cards
from tests.redact.reference import EXEMPTIONS, find_cards
from tests.redact.support import ship, ship_raw
from tests.redact.test_clean import measure_false_positives

COLUMNS = (
    "cases", "pan", "sad", "overexposed", "broken", "kept_changed", "ref_cards", "raw_cases",
    "raw_leaks",
)  # fmt: skip
RAW_POSITIONS = ("whole", "start", "middle", "end", "quoted", "punct")


def evaluate_styles(seeds: range) -> dict[str, Counter[str]]:
    redactor = Redactor(RedactConfig())
    table: dict[str, Counter[str]] = {s.name: Counter() for s in STYLES}
    for style in STYLES:
        for seed in seeds:
            batch = list(cases(range(seed, seed + 1), styles=(style,)))
            shipped = ship(redactor, [c.line for c in batch])
            row = table[style.name]
            for case, out in zip(batch, shipped, strict=True):
                v = judge(case, out)
                row["cases"] += 1
                row["pan"] += bool(v.pan_leaks)
                row["sad"] += bool(sum(v.sad_leaks.values()))
                row["overexposed"] += bool(v.overexposed)
                row["broken"] += bool(v.broken)
                row["kept_changed"] += bool(v.changed_keep)
                row["ref_cards"] += bool(reference_cards(out))
            raw = [c for c in batch if c.path == ("msg",) and c.position in RAW_POSITIONS]
            if style.kind == "context" or not raw:
                continue
            texts = ship_raw(redactor, [msgspec.json.decode(c.line)["msg"].encode() for c in raw])
            for case, text in zip(raw, texts, strict=True):
                row["raw_cases"] += 1
                row["raw_leaks"] += bool(
                    judge(case, {"msg": text}).leaked or reference_cards({"msg": text})
                )
    return table


def _range(spec: str) -> range:
    first, _, last = spec.partition("-")
    return range(int(first), int(last or first) + 1)


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "collector/redact"], capture_output=True, text=True
        ).stdout.strip()
        return out.stdout.strip() + (" + uncommitted collector/redact changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-9", help="range of seeds, e.g. 0-9")
    parser.add_argument("--clean-lines", type=int, default=5000, help="clean lines per seed")
    args = parser.parse_args(argv)
    seeds = _range(args.seeds)

    started = time.monotonic()
    table = evaluate_styles(seeds)
    fp = measure_false_positives(seeds, args.clean_lines)
    elapsed = time.monotonic() - started

    kinds = {s.name: s.kind for s in STYLES}
    print(f"seeds {args.seeds} ({len(seeds)}), {len(STYLES)} styles, at {_commit()}, "
          f"{elapsed:.0f} s")  # fmt: skip
    print()
    print("| style | kind | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---:|" * len(COLUMNS))
    for name, row in table.items():
        print(f"| `{name}` | {kinds[name]} | " + " | ".join(str(row[c]) for c in COLUMNS) + " |")
    total = Counter()
    for row in table.values():
        total.update(row)
    print("| **all** | | " + " | ".join(f"**{total[c]}**" for c in COLUMNS) + " |")
    leaking = [n for n, r in table.items() if r["pan"] or r["sad"]]
    print()
    print(f"styles with a leak: {len(leaking)}/{len(STYLES)}: {', '.join(leaking) or 'none'}")

    lines = sum(s["lines"] for s in fp.values())
    clean = sum(s["clean"] for s in fp.values())
    changed = sum(s["changed"] for s in fp.values())
    shaped = sum(s["card_shaped"] for s in fp.values())
    print()
    print(f"clean corpus: {lines} lines, {shaped} hold a card-valid number or SAD label by "
          f"chance (set apart), {changed} of {clean} clean lines changed = "
          f"{changed / max(clean, 1):.3%} (limit 0.5 %)")  # fmt: skip
    print()
    exempt: Counter[str] = Counter()
    for seed in seeds:
        for _, line in clean_lines(seed, args.clean_lines):
            for _, text in leaves(msgspec.json.decode(line)):
                exempt.update(f.exemption for f in find_cards(text) if f.exemption)
    print("reference exemptions that decided a card-valid window in the clean corpus: "
          + ", ".join(f"{name} {exempt[name]}" for name in EXEMPTIONS))  # fmt: skip
    print()
    print("| category | lines | card-shaped by chance | changed (false positives) |")
    print("|---|---:|---:|---:|")
    for name, s in fp.items():
        print(f"| `{name}` | {s['lines']} | {s['card_shaped']} | {s['changed']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
