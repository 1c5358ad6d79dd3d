"""What the config's types cannot say: checks run on the loaded `Config` by both commands.

`check-config` and `run` load a config the same way (`config.load_config`), so a config one
accepts the other runs: each problem that would make `run` fail, read nothing, spin or
retry a handshake forever is reported here as `key.path: reason`, next to the type errors.

Two layers: `check_config` looks at the values alone (sizes and intervals above zero, a
regex parser with its regex, tag templates, multiline patterns) and holds wherever the
config is parsed; `check_host` looks at the machine it runs on (secret and TLS files,
environment variables, the metrics listen address) and runs when a config file is loaded
for use. Neither prints a secret: only paths and variable names.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from collector.metrics.server import split_listen
from collector.parse import FORMATS
from collector.route.tag import TagTemplate
from collector.tail.lines import joiner_for

if TYPE_CHECKING:
    from collector.forward.config import ForwardConfig
    from collector.metrics.config import MetricsConfig
    from collector.redact.config import RedactConfig
    from collector.route.config import SourceConfig
    from collector.units import ByteSize, Seconds

_PEM = b"-----BEGIN "


class _Bounds(Protocol):
    """The `pipeline:` section's values the checks read (config.PipelineConfig)."""

    max_in_flight_bytes: ByteSize
    checkpoint_interval: Seconds
    checkpoint_expiry: Seconds


class Config(Protocol):
    """The parts of a loaded config the checks read: `config.Config` is one.

    Named by shape, not imported, because config.py calls these checks while loading:
    this module sits below it.
    """

    sources: list[SourceConfig]
    forward: ForwardConfig
    redact: RedactConfig
    metrics: MetricsConfig

    @property
    def pipeline(self) -> _Bounds: ...


def check_config(cfg: Config) -> list[str]:
    """Errors in the values of a well-typed config, as `key.path: reason`."""
    errors = [f"{path}: must be greater than 0" for path, value in _positives(cfg) if value <= 0]
    for i, source in enumerate(cfg.sources):
        errors.extend(f"sources[{i}].{e}" for e in _source_errors(source))
    return errors


def _positives(cfg: Config) -> Iterator[tuple[str, float]]:
    """Sizes, counts and intervals at which zero means reading nothing or spinning."""
    for i, s in enumerate(cfg.sources):
        yield f"sources[{i}].read_chunk_bytes", s.read_chunk_bytes
        yield f"sources[{i}].poll_interval", s.poll_interval
        yield f"sources[{i}].partial_line_timeout", s.partial_line_timeout
        yield f"sources[{i}].max_open_files", s.max_open_files
        yield f"sources[{i}].multiline.flush_timeout", s.multiline.flush_timeout
        yield f"sources[{i}].multiline.max_bytes", s.multiline.max_bytes
    p = cfg.pipeline
    yield "pipeline.max_in_flight_bytes", p.max_in_flight_bytes
    yield "pipeline.checkpoint_interval", p.checkpoint_interval
    yield "pipeline.checkpoint_expiry", p.checkpoint_expiry
    yield "forward.flush_interval", cfg.forward.flush_interval
    m = cfg.metrics
    yield "metrics.ready_window", m.ready_window
    yield "metrics.live_window", m.live_window
    yield "metrics.textfile.max_file_bytes", m.textfile.max_file_bytes
    for i, d in enumerate(m.derived):
        yield f"metrics.derived[{i}].expire_after", d.expire_after


def _source_errors(source: SourceConfig) -> Iterator[str]:
    """What `run` would reject when it builds this source's parser, tagger and joiner."""
    if source.mode != "raw":  # raw mode reads every line as text
        try:
            FORMATS[source.format](source.parser)
        except ValueError as e:
            yield str(e)  # the parsers name their key: "parser.regex: ..."
    try:
        TagTemplate(source.tag, source.name)
    except ValueError as e:
        yield f"tag: {str(e).removeprefix('tag: ')}"
    try:
        joiner_for(source.multiline)
    except re.error as e:
        yield f"multiline.start_pattern: does not compile: {e}"


def check_host(cfg: Config, env: Mapping[str, str]) -> list[str]:
    """Errors that depend on this machine: files, environment variables, addresses."""
    errors: list[str] = []
    tls = cfg.forward.tls
    if tls.enabled:
        pem = {"ca_file": tls.ca_file, "cert_file": tls.cert_file, "key_file": tls.key_file}
        tls_errors = [
            f"forward.tls.{key}: {reason}"
            for key, path in pem.items()
            if path is not None and (reason := _pem_problem(path)) is not None
        ]
        errors.extend(tls_errors or _tls_context_errors(cfg))
    security = cfg.forward.security
    if security is not None:
        for key, path in (
            ("shared_key_file", security.shared_key_file),
            ("password_file", security.password_file),
        ):
            errors.extend(_file_errors(f"forward.security.{key}", path))
        for key, name in (
            ("shared_key_env", security.shared_key_env),
            ("password_env", security.password_env),
        ):
            errors.extend(_env_errors(f"forward.security.{key}", name, env))
    if cfg.redact.pan_policy == "hmac" and not cfg.redact.hmac_key:
        errors.extend(_file_errors("redact.hmac_key_file", cfg.redact.hmac_key_file))
        if cfg.redact.hmac_key_file is None:
            errors.extend(_env_errors("redact.hmac_key_env", cfg.redact.hmac_key_env, env))
    if cfg.metrics.enabled:
        errors.extend(_listen_errors(cfg.metrics.listen))
    return errors


def _read_head(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(64 * 1024)


def _file_errors(key: str, path: str | None) -> list[str]:
    """A secret file must be readable and not empty (an empty key fails every handshake)."""
    if path is None:
        return []
    try:
        head = _read_head(path)
    except OSError as e:
        return [f"{key}: cannot read {path}: {e.strerror}"]
    return [] if head.strip() else [f"{key}: {path} is empty"]


def _env_errors(key: str, name: str | None, env: Mapping[str, str]) -> list[str]:
    if name is None or env.get(name):
        return []
    return [f"{key}: environment variable {name} is not set or empty"]


def _pem_problem(path: str) -> str | None:
    try:
        head = _read_head(path)
    except OSError as e:
        return f"cannot read {path}: {e.strerror}"
    return None if _PEM in head else f"{path} is not a PEM file (no -----BEGIN line)"


def _tls_context_errors(cfg: Config) -> list[str]:
    """The TLS context `run` builds, built now: a key that does not match its certificate."""
    from collector.forward.connection import make_ssl_context

    try:
        make_ssl_context(cfg.forward.tls)
    except OSError as e:  # ssl.SSLError is an OSError
        reason = getattr(e, "reason", None) or e.strerror or type(e).__name__
        return [f"forward.tls: the certificate, key or CA is not usable ({reason})"]
    return []


def _listen_errors(listen: str) -> list[str]:
    """The address the metrics server will bind, resolved as it resolves it."""
    host, port = split_listen(listen)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as e:
        reason = e.strerror if isinstance(e, socket.gaierror) else "not a host name"
        return [f"metrics.listen: cannot resolve host {host!r}: {reason}"]
    return []
