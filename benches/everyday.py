"""The everyday-rate benchmark: what the sidecar costs at the rates services really log.

A sidecar is paid for in every pod, mostly idle or at tens to a few thousand lines a
second, so the cost that matters is per wake-up, not per line of a flood. For each rate
(0 = idle, 20, 200, 2,000, 20,000 lines/s) an app stand-in appends one JSON line per
`write()` (line-buffered, as logback and most loggers write) to an empty file, and each
agent tails it and ships it with acks to the same acking receiver (tools/receiver/sink.py):

- the collector with its defaults (structured mode, full PCI redaction);
- Fluent Bit, when it is found (`--fluent-bit PATH`, `$FLUENT_BIT`, `../shared/peers/fluent-bit`
  or `fluent-bit` on PATH), with the equivalent pipeline: tail (json parser, `ts` as the event
  time, a position DB) -> forward with `Require_ack_response`, no filter.

Both run in the same invocation, one after the other at each rate, so their ratio is honest
on a shared, noisy machine. Reported per agent and rate: CPU ms per second (user + sys of the
agent process over the write window), CPU µs per line, RSS (median of samples during the
window), and write -> receipt latency p50 / p99 (the line's own `ts` to the receiver's clock;
the receiver acks at once). Without Fluent Bit the collector is reported alone.

    python -m benches.everyday                        # all rates, 20 s each
    python -m benches.everyday --rates 0 200 --duration 30 --runs 3

It prints a table and writes bench-results/everyday.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from benches import fluentbit
from benches.flood import REPO, bench_config, machine, run_collector, table
from tools.receiver.sink import SinkProcess
from tools.simulator import PaymentLogs

RATES = (0, 20, 200, 2_000, 20_000)
FIGURES = ("cpu_ms_per_s", "cpu_us_per_line", "rss_mib", "latency_p50_ms", "latency_p99_ms")


class Agent:
    """One tailing agent as a child process, CPU and RSS read from /proc."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], stop: Any) -> None:
        self.name = name
        self.proc = proc
        self.ps = psutil.Process(proc.pid)
        self._stop = stop

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def stop(self) -> None:
        self._stop()


def start_collector(workdir: Path, log: Path, port: int) -> Agent:
    """`collector run` with its defaults: only what the test harness must set is set."""
    config = bench_config(workdir, log, port, "structured", "1s")
    collector = run_collector(config)
    collector.stop_sampling()  # this benchmark samples RSS itself, at its own cadence
    assert collector.proc is not None
    return Agent("collector", collector.proc, collector.stop)


def start_fluent_bit(binary: Path, workdir: Path, log: Path, port: int) -> Agent:
    proc = fluentbit.start(binary, fluentbit.write_config(workdir, log, port), workdir)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    return Agent("fluent-bit", proc, stop)


class Writer:
    """The app: one line per write() at a steady rate, each line's `ts` taken as it is written."""

    def __init__(self, log: Path, rate: int, seed: int) -> None:
        self.fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        self.rate = rate
        self.gen = PaymentLogs(seed)
        self.written = 0

    def one(self) -> None:
        os.write(self.fd, self.gen.line())
        self.written += 1

    def run(self, seconds: float) -> None:
        if self.rate <= 0:
            time.sleep(seconds)
            return
        started = time.monotonic()
        end = started + seconds
        while (now := time.monotonic()) < end:
            due = int((now - started) * self.rate) + 1
            while self.written < due:  # catch up one write() at a time, never as a block
                self.one()
            next_due = started + due / self.rate
            delay = next_due - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def close(self) -> None:
        os.close(self.fd)


def wait_count(receiver: SinkProcess, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while receiver.count < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return receiver.count >= count


def sample_rss(agent: Agent, stop: threading.Event, out: list[int]) -> None:
    while not stop.wait(0.5):
        with contextlib.suppress(psutil.Error):
            out.append(agent.rss())


def measure(args: argparse.Namespace, who: str, rate: int, run: int) -> dict[str, Any]:
    """One agent at one rate: warm up (one line through), then `duration` s of writes."""
    workdir = Path(tempfile.mkdtemp(prefix=f"everyday-{who}-{rate}-{run}-", dir=args.workdir))
    log = workdir / "logs" / "payment.log"
    log.parent.mkdir()
    log.touch()
    receiver = SinkProcess(expect=0, latency=True)
    if who == "collector":
        agent = start_collector(workdir, log, receiver.port)
    else:
        agent = start_fluent_bit(args.fluent_bit, workdir, log, receiver.port)
    writer = Writer(log, rate, args.seed + run)
    result: dict[str, Any] = {"agent": who, "rate": rate, "run": run}
    try:
        writer.one()  # the pipeline is connected once a first line is through
        if not wait_count(receiver, 1, args.timeout):
            raise RuntimeError(f"{who}: no first line within {args.timeout} s")
        time.sleep(args.settle)
        warm = writer.written
        rss: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(agent, stop, rss), daemon=True)
        sampler.start()
        cpu0, t0 = agent.cpu(), time.monotonic()
        writer.run(args.duration)
        cpu1, t1 = agent.cpu(), time.monotonic()
        stop.set()
        sampler.join()
        lines = writer.written - warm
        arrived = wait_count(receiver, writer.written, args.timeout)
        window = t1 - t0
        result.update(
            lines=lines,
            window_s=window,
            cpu_ms_per_s=(cpu1 - cpu0) * 1000 / window,
            cpu_us_per_line=(cpu1 - cpu0) * 1e6 / lines if lines else None,
            rss_mib=statistics.median(rss) / 2**20 if rss else agent.rss() / 2**20,
            all_arrived=arrived,
        )
    finally:
        agent.stop()
        writer.close()
        stats = receiver.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    latency = stats.get("latency_ms", {})
    result.update(
        received=stats.get("entries", 0),
        latency_p50_ms=latency.get("p50"),
        latency_p99_ms=latency.get("p99"),
    )
    return result


def cells(args: argparse.Namespace) -> Iterator[tuple[str, int, int]]:
    agents = ["collector"] + (["fluent-bit"] if args.fluent_bit else [])
    for run in range(args.runs):
        for rate in args.rates:
            for who in agents:  # side by side at each rate, so drift hits both alike
                yield who, rate, run


def medians(runs: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in runs:
        grouped.setdefault((r["agent"], r["rate"]), []).append(r)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for key, rows in grouped.items():
        merged: dict[str, Any] = {"runs": len(rows)}
        for field in (
            "cpu_ms_per_s",
            "cpu_us_per_line",
            "rss_mib",
            "latency_p50_ms",
            "latency_p99_ms",
        ):
            values = [r[field] for r in rows if r.get(field) is not None]
            merged[field] = statistics.median(values) if values else None
        merged["all_arrived"] = all(r.get("all_arrived") for r in rows)
        out[key] = merged
    return out


def _f(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(summary: dict[tuple[str, int], dict[str, Any]], rates: list[int]) -> str:
    rows = [("rate (lines/s) / agent", "CPU ms/s | µs/line | RSS MiB | p50 ms | p99 ms")]
    for rate in rates:
        for who in ("collector", "fluent-bit"):
            s = summary.get((who, rate))
            if s is None:
                continue
            rows.append(
                (
                    f"{rate:>6} {who}",
                    f"{_f(s['cpu_ms_per_s'], '.1f')} | {_f(s['cpu_us_per_line'], '.0f')} | "
                    f"{_f(s['rss_mib'], '.1f')} | {_f(s['latency_p50_ms'], '.0f')} | "
                    f"{_f(s['latency_p99_ms'], '.0f')}"
                    + ("" if s["all_arrived"] else "  (lines missing!)"),
                )
            )
        ours, peer = summary.get(("collector", rate)), summary.get(("fluent-bit", rate))
        if ours and peer and peer["cpu_ms_per_s"]:
            rows.append(
                (
                    f"{rate:>6} collector / fluent-bit",
                    f"CPU {ours['cpu_ms_per_s'] / peer['cpu_ms_per_s']:.2f}x, "
                    f"RSS {ours['rss_mib'] / peer['rss_mib']:.2f}x",
                )
            )
    return table(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benches.everyday", description=__doc__)
    p.add_argument("--rates", type=int, nargs="+", default=list(RATES))
    p.add_argument("--duration", type=float, default=20.0, help="seconds of writes per cell")
    p.add_argument("--settle", type=float, default=2.0, help="seconds after the first line")
    p.add_argument("--runs", type=int, default=1, help="repeat the whole grid; medians")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fluent-bit", dest="fluent_bit_path", default=None)
    p.add_argument("--no-peer", action="store_true", help="the collector alone")
    p.add_argument("--workdir", default=None)
    p.add_argument("--keep", action="store_true", help="keep the temp dirs")
    p.add_argument("--out", default=str(REPO / "bench-results" / "everyday.json"))
    args = p.parse_args(argv)
    args.fluent_bit = None if args.no_peer else fluentbit.find(args.fluent_bit_path)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fluent_bit is None:
        print("Fluent Bit not found: reporting the collector alone")
    runs = []
    for who, rate, run in cells(args):
        print(f"run {run + 1}/{args.runs}: {who} at {rate} lines/s ...", flush=True)
        runs.append(measure(args, who, rate, run))
    summary = medians(runs)
    print(report(summary, args.rates))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "fluent_bit": str(args.fluent_bit) if args.fluent_bit else None,
                "duration_s": args.duration,
                "runs": runs,
                "medians": [{"agent": a, "rate": r, **s} for (a, r), s in summary.items()],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
