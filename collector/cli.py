"""`collector run | check-config | redact | version`.

Exit codes: 0 success (including a clean shutdown on SIGTERM), 1 runtime failure,
2 invalid config or usage.

What a command needs is imported when it runs, in an order that matters for `run`:
hashes and TLS are settled (collector/openssl.py) before the config, asyncio and the
pipeline are imported, so a collector without TLS never loads OpenSSL.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING

from collector import __version__, diagnostics, openssl
from collector.signals import Signals

if TYPE_CHECKING:
    from collector.config import Config

log = logging.getLogger("collector")

EXIT_CONFIG = 2
_CONFIG_HELP = "YAML config file (default: $COLLECTOR_CONFIG or /etc/collector/collector.yaml)"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    handler = {
        "run": _run,
        "check-config": _check_config,
        "redact": _redact,
        "version": _version,
    }[args.command]
    return handler(args)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="collector",
        description="Tail payment-service logs, redact card data, ship over Fluent Forward.",
    )
    # prog given: argparse would otherwise build a help formatter, importing shutil.
    sub = p.add_subparsers(dest="command", prog="collector")
    run = sub.add_parser("run", help="run in the foreground until SIGTERM/SIGINT")
    run.add_argument("--config", "-c", default=None, help=_CONFIG_HELP)
    check = sub.add_parser("check-config", help="validate a config; print it with secrets masked")
    check.add_argument("config", nargs="?", default=None, help=_CONFIG_HELP)
    redact = sub.add_parser("redact", help="filter stdin to stdout through the redactor")
    redact.add_argument("--config", "-c", default=None, help="take the redact: section from here")
    sub.add_parser("version", help="print the version")
    return p


def _load(path: str | None) -> Config | None:
    from collector.config import ConfigError, default_config_path, load_config

    path = path or default_config_path()
    try:
        return load_config(path)
    except ConfigError as e:
        # Errors may quote values and paths: they pass the default redactor like any log line.
        from collector.redact import Redactor
        from collector.redact.config import RedactConfig

        scrub = Redactor(RedactConfig()).redact_text
        print(scrub(f"invalid config {path}:"), file=sys.stderr)
        for error in e.errors:
            print(f"  {scrub(error)}", file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    if cfg is None:
        return EXIT_CONFIG
    import yaml

    from collector.config import masked

    yaml.safe_dump(masked(cfg), sys.stdout, sort_keys=False)
    return 0


def _version(args: argparse.Namespace) -> int:
    from collector.redact.scan import prefilter_form

    # Which pre-scan this install runs: C (with its vector form or its byte loop), or
    # none when the extension was not built (every line is then walked, ~13x the cost).
    form = prefilter_form()
    prescan = "none (C not built: every line walked)" if form == "none" else f"C ({form})"
    print(f"collector {__version__} (redaction pre-scan: {prescan})")
    return 0


def _redact(args: argparse.Namespace) -> int:
    from collector.redact import Redactor
    from collector.redact.config import RedactConfig
    from collector.redact.filter import redact_stream

    redact_cfg = RedactConfig()
    if args.config is not None:
        cfg = _load(args.config)
        if cfg is None:
            return EXIT_CONFIG
        redact_cfg = cfg.redact
    redactor = Redactor(redact_cfg)
    with contextlib.suppress(BrokenPipeError):
        redact_stream(redactor, sys.stdin.buffer, sys.stdout.buffer)
        sys.stdout.flush()
    return 0


def _run(args: argparse.Namespace) -> int:
    signals = Signals()
    signals.install_early()  # before anything slow: reading the config, building the redactor
    openssl.builtin_hashes()
    cfg = _load(args.config)
    if cfg is None:
        return EXIT_CONFIG
    if not openssl.needed(cfg):
        openssl.leave_out_tls()
    import asyncio

    from collector.redact import Redactor
    from collector.redact.config import RedactConfig

    try:
        scrub = Redactor(cfg.redact).redact_text
    except Exception as e:  # our logs are redacted even when the configured redactor fails
        diagnostics.configure(cfg.log.level, scrub=Redactor(RedactConfig()).redact_text)
        return _failed(e)
    diagnostics.configure(cfg.log.level, scrub=scrub)
    try:
        asyncio.run(_serve(cfg, signals))
    except Exception as e:
        return _failed(e)
    log.info("collector stopped")
    return 0


def _failed(error: Exception) -> int:
    """Log why `run` stops: the reason in `msg`, a traceback only at log.level debug."""
    log.error(
        f"collector failed: {failure_reason(error)}",
        extra={"error_type": type(error).__name__},
        exc_info=log.isEnabledFor(logging.DEBUG),
    )
    return 1


def failure_reason(error: BaseException) -> str:
    """What went wrong, in words: the leaves of an exception group, each as `Type: text`."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(failure_reason(e) for e in error.exceptions)
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def _serve(cfg: Config, signals: Signals) -> None:
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            # A second signal: the operator does not want to wait for the drain.
            log.warning(
                "second signal; stopping without waiting for acks", extra={"signal": sig.name}
            )
            if current is not None:
                current.cancel()
            return
        log.info("signal received; draining", extra={"signal": sig.name})
        stop.set()

    signals.attach(loop, on_signal)
    with contextlib.suppress(asyncio.CancelledError):
        from collector.pipeline import Pipeline

        pipeline = Pipeline(cfg)
        await pipeline.run(stop)
