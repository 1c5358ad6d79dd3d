"""The log-flood benchmark: `collector run` against a file of simulated payment logs.

Three scenarios, each a real `collector run` process with a fast acking receiver
(tools/receiver/sink.py) in another process, so the figures are those of the collector alone:

- flood (default): N lines written up front, tailed from the head, shipped with acks.
  Reports wall lines/s until the last ack, CPU-seconds per million lines (user + sys of the
  collector process), peak RSS, and the ratio to the physical limit measured in the same
  run (a minimal process that reads the file and writes its bytes to a loopback socket).
- `--rate N`: the simulator writes N lines/s for `--duration` s while the collector tails
  it; reports end-to-end latency p50/p99 (the line's `ts` → receipt, acked at once) and the
  collector's CPU at that rate (what the sizing guide needs).
- `--receiver-outage`: a flood during which the receiver is killed for 10 s, then restarted;
  reports peak RSS (bounded by `max_in_flight_bytes`, not by the file) and recovery time.

    python -m benches.flood                       # 1M lines, structured mode
    python -m benches.flood --mode raw --runs 3   # medians of three runs
    python -m benches.flood --rate 5000 --duration 30
    python -m benches.flood --receiver-outage

When Fluent Bit is found (`--fluent-bit PATH`, `$FLUENT_BIT`, ../shared/peers/fluent-bit or
PATH), each flood run is followed by Fluent Bit's on the same file to the same receiver
(benches/fluentbit.py), and the report gives the ratio of the two: a ratio only holds when
both sides ran in the same invocation on the same machine. `--no-peer` skips it.

It prints a table and writes bench-results/flood.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]
import yaml

from benches import fluentbit
from tools import runner
from tools.receiver.sink import SinkProcess
from tools.simulator import write_file

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
READ_CHUNK = 256 * 1024


# --- helper processes ------------------------------------------------------------------
def bench_config(
    workdir: Path,
    log: Path,
    port: int,
    mode: str,
    flush_interval: str,
    source_options: list[str] | None = None,
    settings: list[str] | None = None,
    **extra: Any,
) -> Path:
    """The benchmark's config (the product's defaults but for what a run must set), written
    by tools.runner; `source_options` are `key=yaml`, `settings` `section.key=yaml`."""
    source: dict[str, Any] = {
        "paths": [str(log)],
        "mode": mode,
        "tag": "bench.payment",
        "read_from": "head",
        "parser": {"time_key": "ts"},
    }
    for option in source_options or []:
        key, _, value = option.partition("=")
        source[key] = yaml.safe_load(value)
    overrides: dict[str, Any] = {
        "forward": {
            "require_ack": True,
            "flush_interval": flush_interval,
            "retry_initial": "100ms",
            "retry_max": "1s",
        },
        "log": {"level": "info"},
    }
    runner.merge(overrides, extra)
    for option in settings or []:
        dotted, _, value = option.partition("=")
        section, _, key = dotted.partition(".")
        overrides.setdefault(section, {})[key] = yaml.safe_load(value)
    return runner.write_config(workdir, port, source, quick=False, **overrides)


def run_collector(
    config: Path,
    wrap: list[str] | None = None,
    launcher: list[str] | None = None,
    child: bool = True,
) -> runner.CollectorProcess:
    """`collector run` as a child, measured (CPU, RSS sampled from /proc while it runs);
    FLOOD_COLLECTOR_TREE runs it from another source tree (`git archive`) for A/B runs."""
    process = runner.CollectorProcess(
        config,
        wrap=wrap,
        launcher=launcher,
        child=child,
        tree=os.environ.get("FLOOD_COLLECTOR_TREE"),
    )
    return process.start(wait=False, measure=True)


# Experiments only: the collector's own `main` after a process-wide setting (a GC
# threshold, uvloop), to measure what the setting would buy if cli.py made it, and the
# no-redaction baseline.
LAUNCHER = """
import gc, sys
GC, UVLOOP, NO_REDACT = {gc}, {uvloop}, {no_redact}
if NO_REDACT:
    # The baseline the redaction budget is measured against: the same pipeline with the
    # pre-scan flagging nothing (no walk). The collector itself has no such switch.
    from collector.redact.redactor import Redactor
    Redactor.scan = lambda self, lines: []
if GC:
    gc.set_threshold(GC, 50, 100)
if UVLOOP:
    import uvloop
    uvloop.install()
from collector.cli import main
if GC:
    gc.freeze()
sys.exit(main(sys.argv[1:]))
"""


# --- the physical limit -----------------------------------------------------------------
_LIMIT_SCRIPT = """
import os, socket, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
while True:
    data = os.read(fd, int(sys.argv[3]))
    if not data:
        break
    s.sendall(data)
s.close()
"""


def physical_limit(log: Path) -> dict[str, float]:
    """Wall and CPU time of the least a tailer can do: read the file, write it to a socket."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    received = 0

    def sink() -> None:
        nonlocal received
        conn, _ = server.accept()
        buf = bytearray(1024 * 1024)
        while n := conn.recv_into(buf):
            received += n
        conn.close()

    t = threading.Thread(target=sink, daemon=True)
    t.start()
    started = time.perf_counter()
    proc = subprocess.Popen([PY, "-c", _LIMIT_SCRIPT, str(log), str(port), str(READ_CHUNK)])
    _, _, rusage = os.wait4(proc.pid, 0)
    t.join(60)
    wall = time.perf_counter() - started
    server.close()
    return {
        "wall_s": wall,
        "cpu_s": rusage.ru_utime + rusage.ru_stime,
        "bytes": received,
    }


# --- scenarios ----------------------------------------------------------------------------
def checkpoint_offset(state: Path) -> int:
    try:
        data = json.loads((state / "checkpoints.json").read_text())
    except (OSError, ValueError):
        return 0
    return max((e["offset"] for e in data.get("files", [])), default=0)


def flood_run(args: argparse.Namespace, log: Path, lines: int, run: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"flood-{run}-", dir=args.workdir))
    limit = physical_limit(log)
    receiver = SinkProcess(expect=lines)
    config = bench_config(
        workdir, log, receiver.port, args.mode, args.flush_interval, args.source_option, args.set
    )
    wrap = launcher = None
    if args.gc_threshold or args.uvloop or args.no_redact:
        setup = LAUNCHER.format(gc=args.gc_threshold, uvloop=args.uvloop, no_redact=args.no_redact)
        launcher = [PY, "-c", setup]
    if args.profile:
        spy = Path(PY).parent / "py-spy"
        wrap = [
            str(spy) if spy.exists() else "py-spy",
            "record",
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
        ]
        wrap = [*wrap, "--output", args.profile, "--"]
    if args.callgrind:
        wrap = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={args.callgrind}"]
    collector = run_collector(config, wrap, launcher, child=not args.callgrind)
    try:
        if receiver.wait_for("first", args.timeout) is None:
            raise RuntimeError(f"no entry arrived; see {collector.stderr_path}")
        cpu_first = collector.cpu()
        count_first = receiver.count
        if receiver.wait_for("done", args.timeout) is None:
            raise RuntimeError(
                f"only {receiver.count} of {lines} entries arrived; see {collector.stderr_path}"
            )
        cpu_done = collector.cpu()
        done_ns = receiver.done_ns
        rss_at_done = collector.peak_rss
    finally:
        code = collector.stop()
        stats = receiver.stop()
    wall = (done_ns - collector.started) / 1e9
    steady_wall = (done_ns - receiver.first_ns) / 1e9
    steady_lines = lines - count_first
    size = log.stat().st_size
    result = {
        "mode": args.mode,
        "lines": lines,
        "bytes": size,
        "wall_s": wall,
        "lines_per_s": lines / wall,
        "mib_per_s": size / wall / 2**20,
        "cpu_s": cpu_done,
        "cpu_s_per_m_lines": cpu_done / lines * 1e6,
        "startup_cpu_s": cpu_first,
        "steady_cpu_s_per_m_lines": (cpu_done - cpu_first) / max(1, steady_lines) * 1e6,
        "steady_lines_per_s": steady_lines / max(1e-9, steady_wall),
        "cpu_s_total_with_shutdown": collector.rusage.ru_utime + collector.rusage.ru_stime,
        "peak_rss_mib": collector.max_rss / 2**20,
        "peak_rss_sampled_mib": max(rss_at_done, collector.peak_rss) / 2**20,
        "limit_wall_s": limit["wall_s"],
        "limit_cpu_s": limit["cpu_s"],
        "limit_lines_per_s": lines / limit["wall_s"],
        "ratio_to_limit": (lines / wall) / (lines / limit["wall_s"]),
        "exit_code": code,
        "receiver": stats,
    }
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def peer_flood_run(args: argparse.Namespace, log: Path, lines: int, run: int) -> dict[str, Any]:
    """Fluent Bit on the same file to the same receiver, right after the collector's run."""
    workdir = Path(tempfile.mkdtemp(prefix=f"flood-peer-{run}-", dir=args.workdir))
    receiver = SinkProcess(expect=lines)
    config = fluentbit.write_config(workdir, log, receiver.port, args.mode)
    started = time.time_ns()
    proc = fluentbit.start(args.fluent_bit, config, workdir)
    ps = psutil.Process(proc.pid)
    try:
        if receiver.wait_for("done", args.timeout) is None:
            raise RuntimeError(f"Fluent Bit: only {receiver.count} of {lines} entries arrived")
        times = ps.cpu_times()
        cpu_done = float(times.user + times.system)
        done_ns = receiver.done_ns
    finally:
        proc.terminate()
        _, _, rusage = os.wait4(proc.pid, 0)
        receiver.stop()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    wall = (done_ns - started) / 1e9
    return {
        "lines_per_s": lines / wall,
        "cpu_s": cpu_done,
        "cpu_s_per_m_lines": cpu_done / lines * 1e6,
        "peak_rss_mib": rusage.ru_maxrss / 1024,
    }


def rate_run(args: argparse.Namespace, run: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"rate-{run}-", dir=args.workdir))
    log = workdir / "logs" / "payment.log"
    log.parent.mkdir()
    log.touch()
    receiver = SinkProcess(expect=0, latency=True)
    config = bench_config(
        workdir, log, receiver.port, args.mode, args.flush_interval, args.source_option, args.set
    )
    collector = run_collector(config)
    try:
        time.sleep(args.warmup)  # let the collector start and open the file
        cpu_before = collector.cpu()
        started = time.monotonic()
        sim = subprocess.run(
            [
                *(PY, "-m", "tools.simulator", "--out", str(log)),
                *("--rate", str(args.rate), "--duration", str(args.duration)),
                *("--seed", str(args.seed)),
            ],
            cwd=REPO,
            check=True,
        )
        assert sim.returncode == 0
        written = sum(1 for _ in log.open("rb"))
        sim_wall = time.monotonic() - started
        deadline = time.monotonic() + args.timeout
        while receiver.count < written and time.monotonic() < deadline:
            time.sleep(0.1)
        cpu_during = collector.cpu() - cpu_before
    finally:
        code = collector.stop()
        stats = receiver.stop()
    latency = stats.get("latency_ms", {})
    result = {
        "mode": args.mode,
        "rate": args.rate,
        "duration_s": sim_wall,
        "lines": written,
        "received": stats.get("entries", 0),
        "flush_interval": args.flush_interval,
        "latency_p50_ms": latency.get("p50"),
        "latency_p90_ms": latency.get("p90"),
        "latency_p99_ms": latency.get("p99"),
        "latency_max_ms": latency.get("max"),
        "cpu_s": cpu_during,
        "cpu_cores": cpu_during / sim_wall,
        "cpu_cores_per_1k_lines_s": cpu_during / sim_wall / (args.rate / 1000),
        "peak_rss_mib": collector.max_rss / 2**20,
        "exit_code": code,
    }
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def outage_run(args: argparse.Namespace, log: Path, lines: int, run: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"outage-{run}-", dir=args.workdir))
    size = log.stat().st_size
    state = workdir / "state"
    receiver = SinkProcess(expect=lines)
    port = receiver.port
    config = bench_config(
        workdir,
        log,
        port,
        args.mode,
        args.flush_interval,
        args.source_option,
        args.set,
        pipeline={"checkpoint_interval": "100ms"},
    )
    collector = run_collector(config)
    try:
        # Let a part of the flood through, then take the receiver away.
        deadline = time.monotonic() + args.timeout
        while receiver.count < lines // 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        before = receiver.count
        receiver.kill()
        down_at = time.monotonic()
        rss_before_outage = collector.peak_rss
        time.sleep(args.outage)
        rss_during = max((r for t, r in collector.rss_samples if t >= down_at), default=0)
        offset_during = checkpoint_offset(state)
        receiver = SinkProcess(expect=0, port=port)
        up_at = time.monotonic()
        first = receiver.wait_for("first", args.timeout)
        reconnect_s = time.monotonic() - up_at if first is not None else None
        while checkpoint_offset(state) < size and time.monotonic() < deadline + args.timeout:
            time.sleep(0.02)
        recovered_s = time.monotonic() - up_at
        complete = checkpoint_offset(state) >= size
        cpu = collector.cpu()
    finally:
        code = collector.stop()
        stats = receiver.stop()
    result = {
        "mode": args.mode,
        "lines": lines,
        "outage_s": args.outage,
        "received_before_outage": before,
        "received_after_outage": stats.get("entries", 0),
        "resent_entries": before + stats.get("entries", 0) - lines,
        "checkpoint_during_outage": offset_during,
        "peak_rss_mib": collector.max_rss / 2**20,
        "peak_rss_before_outage_mib": rss_before_outage / 2**20,
        "peak_rss_during_outage_mib": rss_during / 2**20,
        "first_ack_after_restart_s": reconnect_s,
        "recovery_s": recovered_s,
        "complete": complete,
        "cpu_s": cpu,
        "exit_code": code,
    }
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


# --- reporting ------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "collector"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit + ("-dirty" if dirty else ""),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg": os.getloadavg(),
    }


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    peers = [r["fluent_bit"] for r in runs if r.get("fluent_bit")]
    if peers:
        out["fluent_bit"] = medians(peers)
    for key, value in runs[0].items():
        if key == "fluent_bit":
            continue
        values = [r[key] for r in runs if isinstance(r.get(key), int | float)]
        if isinstance(value, int | float) and not isinstance(value, bool) and values:
            out[key] = statistics.median(values)
        else:
            out[key] = value
    return out


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def report_flood(s: dict[str, Any], runs: int) -> str:
    rows = [
        ("scenario", f"flood, {s['mode']} mode, median of {runs} run(s)"),
        ("lines", f"{s['lines']:,} ({s['bytes'] / s['lines']:.0f} B/line)"),
        ("wall lines/s (to last ack)", f"{s['lines_per_s']:,.0f}"),
        ("steady lines/s", f"{s['steady_lines_per_s']:,.0f}"),
        ("CPU-s per M lines", f"{s['cpu_s_per_m_lines']:.2f}"),
        ("  steady (startup excluded)", f"{s['steady_cpu_s_per_m_lines']:.2f}"),
        ("  startup CPU-s", f"{s['startup_cpu_s']:.2f}"),
        ("peak RSS MiB", f"{s['peak_rss_mib']:.1f} (target 64)"),
        ("physical limit lines/s", f"{s['limit_lines_per_s']:,.0f}"),
        ("ratio to limit", f"{s['ratio_to_limit']:.3f}"),
    ]
    peer = s.get("fluent_bit")
    if peer:  # measured in this run, on this machine: the only honest ratio
        ratio = s["cpu_s_per_m_lines"] / peer["cpu_s_per_m_lines"]
        rows += [
            ("Fluent Bit (same run) lines/s", f"{peer['lines_per_s']:,.0f}"),
            ("Fluent Bit CPU-s per M lines", f"{peer['cpu_s_per_m_lines']:.2f}"),
            ("Fluent Bit peak RSS MiB", f"{peer['peak_rss_mib']:.1f}"),
            ("collector / Fluent Bit CPU", f"{ratio:.2f}x"),
        ]
    return table(rows)


def report_rate(s: dict[str, Any], runs: int) -> str:
    return table(
        [
            ("scenario", f"steady rate, {s['mode']} mode, median of {runs} run(s)"),
            ("rate lines/s", f"{s['rate']:,.0f} for {s['duration_s']:.0f} s"),
            ("lines written / received", f"{s['lines']:,} / {s['received']:,}"),
            ("latency p50 ms", fmt(s["latency_p50_ms"], ".0f")),
            ("latency p90 ms", fmt(s["latency_p90_ms"], ".0f")),
            (
                "latency p99 ms",
                f"{fmt(s['latency_p99_ms'], '.0f')} (target flush_interval "
                f"{s['flush_interval']} + 250 ms)",
            ),
            ("latency max ms", fmt(s["latency_max_ms"], ".0f")),
            ("CPU cores", f"{s['cpu_cores']:.3f}"),
            ("CPU cores per 1k lines/s", f"{s['cpu_cores_per_1k_lines_s']:.4f}"),
            ("peak RSS MiB", f"{s['peak_rss_mib']:.1f}"),
        ]
    )


def report_outage(s: dict[str, Any], runs: int) -> str:
    return table(
        [
            ("scenario", f"receiver outage, {s['mode']} mode, median of {runs} run(s)"),
            ("lines", f"{s['lines']:,}"),
            ("outage s", f"{s['outage_s']:.0f}"),
            ("peak RSS MiB", f"{s['peak_rss_mib']:.1f} (target 64)"),
            (
                "  before / during outage",
                f"{s['peak_rss_before_outage_mib']:.1f} / {s['peak_rss_during_outage_mib']:.1f}",
            ),
            ("first ack after restart s", fmt(s["first_ack_after_restart_s"])),
            ("recovery s (restart to all acked)", f"{s['recovery_s']:.2f}"),
            ("entries sent again", f"{s['resent_entries']:,}"),
            ("complete", str(s["complete"])),
        ]
    )


@contextlib.contextmanager
def input_file(args: argparse.Namespace) -> Iterator[Path]:
    """The simulated log, generated once per invocation (or reused with --input)."""
    if args.input:
        yield Path(args.input)
        return
    directory = Path(tempfile.mkdtemp(prefix="flood-input-", dir=args.workdir))
    try:
        log = directory / "payment.log"
        started = time.monotonic()
        write_file(str(log), args.lines, seed=args.seed)
        print(
            f"generated {args.lines:,} lines ({log.stat().st_size / 2**20:.0f} MiB) "
            f"in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        yield log
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benches.flood",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--mode", choices=("structured", "raw"), default="structured")
    p.add_argument("--runs", type=int, default=1, help="repeat and report medians")
    p.add_argument("--rate", type=float, default=0, help="lines/s; 0 = flood")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of --rate")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds before --rate starts")
    p.add_argument("--receiver-outage", action="store_true")
    p.add_argument("--outage", type=float, default=10.0, help="seconds the receiver is down")
    p.add_argument("--flush-interval", default="1s")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--source-option",
        action="append",
        metavar="KEY=YAML",
        help="set a key of the source's config, e.g. read_chunk_bytes=1MiB (repeatable)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=YAML",
        help="set a key of the config, e.g. pipeline.max_in_flight_bytes=8MiB (repeatable)",
    )
    p.add_argument(
        "--gc-threshold",
        type=int,
        default=0,
        help="experiment: start the collector with gc.freeze() and this gen0 threshold",
    )
    p.add_argument("--uvloop", action="store_true", help="experiment: run on uvloop")
    p.add_argument(
        "--no-redact",
        action="store_true",
        help="baseline: the pre-scan flags nothing, so redaction costs nothing (bench only)",
    )
    p.add_argument("--input", help="an existing log file instead of a generated one")
    p.add_argument("--workdir", default=None, help="where temp files go (default: $TMPDIR)")
    p.add_argument(
        "--profile",
        metavar="PATH",
        help="run the collector under py-spy, collapsed stacks to PATH (figures then "
        "include the profiler's overhead on the collector)",
    )
    p.add_argument(
        "--callgrind",
        metavar="PATH",
        help="run the collector under valgrind's callgrind, its counts to PATH: instructions "
        "are what the shared VM's noise does not move (the run is ~50x slower)",
    )
    p.add_argument("--keep", action="store_true", help="keep each run's work directory")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--out", default=str(REPO / "bench-results" / "flood.json"))
    p.add_argument("--fluent-bit", dest="fluent_bit_path", help="the peer's binary")
    p.add_argument("--no-peer", action="store_true", help="skip Fluent Bit's run")
    args = p.parse_args(argv)
    args.fluent_bit = None if args.no_peer else fluentbit.find(args.fluent_bit_path)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs: list[dict[str, Any]] = []
    if args.rate:
        scenario = "rate"
        for run in range(args.runs):
            runs.append(rate_run(args, run))
    else:
        scenario = "outage" if args.receiver_outage else "flood"
        with input_file(args) as log:
            lines = sum(1 for _ in log.open("rb")) if args.input else args.lines
            for run in range(args.runs):
                if args.receiver_outage:
                    runs.append(outage_run(args, log, lines, run))
                else:
                    runs.append(flood_run(args, log, lines, run))
                    if args.fluent_bit:
                        runs[-1]["fluent_bit"] = peer_flood_run(args, log, lines, run)
                print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    summary = medians(runs)
    report = {"rate": report_rate, "outage": report_outage, "flood": report_flood}[scenario]
    print(report(summary, len(runs)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "scenario": scenario,
                "command": " ".join(["python -m benches.flood", *(argv or sys.argv[1:])]),
                "machine": machine(),
                "summary": summary,
                "runs": runs,
            },
            indent=2,
        )
    )
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
