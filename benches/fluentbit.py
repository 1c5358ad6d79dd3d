"""Fluent Bit as the peer the benchmarks compare with, in the same run on the same machine.

A measuring instrument only: the project, its tests and CI never need it. The pipeline
mirrors the collector's: tail (a position DB; the json parser with `ts` as the event time in
structured mode, no parser in raw mode) -> forward with `Require_ack_response`, no filter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_PEER = REPO.parent / "shared" / "peers" / "fluent-bit"

PARSERS = """\
[PARSER]
    Name        payment_json
    Format      json
    Time_Key    ts
    Time_Format %Y-%m-%dT%H:%M:%S.%LZ
    Time_Keep   On
"""

CONFIG = """\
[SERVICE]
    Flush        1
    Log_Level    warn
    Parsers_File {parsers}

[INPUT]
    Name           tail
    Path           {log}
    DB             {db}
    Read_from_Head true
    Buffer_Max_Size 1MB
{parser_line}
[OUTPUT]
    Name                 forward
    Match                *
    Host                 127.0.0.1
    Port                 {port}
    Require_ack_response true
"""


def find(explicit: str | None = None) -> Path | None:
    """The binary: an explicit path, $FLUENT_BIT, the shared peer, or `fluent-bit` on PATH."""
    for candidate in (
        explicit,
        os.environ.get("FLUENT_BIT"),
        str(SHARED_PEER),
        shutil.which("fluent-bit"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def write_config(workdir: Path, log: Path, port: int, mode: str = "structured") -> Path:
    parsers = workdir / "parsers.conf"
    parsers.write_text(PARSERS)
    parser_line = "    Parser         payment_json\n" if mode == "structured" else ""
    config = workdir / "fluent-bit.conf"
    config.write_text(
        CONFIG.format(
            parsers=parsers, log=log, db=workdir / "fb.db", port=port, parser_line=parser_line
        )
    )
    return config


def start(binary: Path, config: Path, workdir: Path) -> subprocess.Popen[bytes]:
    """The process, its own output in workdir/fluent-bit.log."""
    with (workdir / "fluent-bit.log").open("wb") as out:
        return subprocess.Popen([str(binary), "-c", str(config)], stdout=out, stderr=out)
