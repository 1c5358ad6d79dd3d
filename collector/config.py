"""The whole configuration: one YAML file validated into msgspec Structs.

Every error is reported, not just the first, each as `key.path: reason`, because an
operator fixing a ConfigMap wants one round trip, not three.
"""

from __future__ import annotations

import os
import re
import types
import typing
from typing import Any, Union

import msgspec
import yaml

from collector.forward.config import ForwardConfig
from collector.metrics.config import MetricsConfig
from collector.redact.config import RedactConfig
from collector.route.config import MetadataConfig, SourceConfig
from collector.units import ByteSize, Seconds, dec_hook
from collector.validate import check_config, check_host


class PipelineConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Bounds that hold the whole pipeline together."""

    # The one memory bound: file bytes read and not yet acked. Reading pauses beyond it.
    max_in_flight_bytes: ByteSize = ByteSize(8 * 1024 * 1024)
    # On SIGTERM: read to EOF, ship, wait this long for acks, save checkpoints, exit 0.
    shutdown_timeout: Seconds = Seconds(20.0)
    # Checkpoints are written at most this often (and at exit)
    checkpoint_interval: Seconds = Seconds(1.0)
    # Checkpoints of files gone for longer than this are forgotten.
    checkpoint_expiry: Seconds = Seconds(7 * 86400.0)


class LogConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # The collector's own JSON-lines logs on stderr
    level: typing.Literal["debug", "info", "warning", "error"] = "info"


class Config(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    sources: list[SourceConfig]
    forward: ForwardConfig
    # Where `checkpoints.json` lives; must be writable and survive container restarts (an `emptyDir`
    # does)
    checkpoint_dir: str = "/var/lib/collector"
    redact: RedactConfig = msgspec.field(default_factory=RedactConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    metadata: MetadataConfig = msgspec.field(default_factory=MetadataConfig)
    pipeline: PipelineConfig = msgspec.field(default_factory=PipelineConfig)
    log: LogConfig = msgspec.field(default_factory=LogConfig)

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("sources: at least one source is required")
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError("sources: names must be unique")


class ConfigError(Exception):
    """Raised with every problem found; `errors` holds `key.path: reason` strings."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# How YAML data becomes the Structs: units through `dec_hook`, and a string where a number
# or boolean is expected converted to it (`port: "${PORT}"`, since interpolation gives
# strings). A string key never receives a number read out of a string.
_CONVERT: dict[str, Any] = {"dec_hook": dec_hook, "strict": False}

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, env: typing.Mapping[str, str], missing: list[str]) -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string of the parsed YAML.

    Done on values, not on the file text, so comments may mention `${VAR}` freely. The
    result is always a string, never YAML read again: a secret such as `p@ss #word` or
    `0123456` must reach the handshake as written. Typed keys still take `${PORT:-24224}`,
    because the loader converts strings to the number or boolean a key expects
    (`_CONVERT`). Lower-case names (`${source}`, `${file}`, `${record.x}`) are tag
    template fields, never environment variables. Unset names with no default are
    appended to `missing`.
    """
    if isinstance(value, dict):
        return {k: interpolate(v, env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, missing) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name.islower():
            return m.group(0)
        if name in env:
            return env[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _VAR.sub(repl, value)


def load_config(path: str, env: typing.Mapping[str, str] | None = None) -> Config:
    """The config in `path`, checked as `run` will use it on this machine.

    Both `run` and `check-config` load through here, so they accept the same configs:
    besides the values, the files, environment variables and addresses they name are
    checked (`validate.check_host`).
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"]) from None
    env = os.environ if env is None else env
    cfg = _typed_config(text, env)
    errors = check_config(cfg) + check_host(cfg, env)
    if errors:
        raise ConfigError(errors)
    return cfg


def parse_config(text: str, env: typing.Mapping[str, str] | None = None) -> Config:
    """The config in `text`, its values checked (not the files and addresses it names)."""
    cfg = _typed_config(text, os.environ if env is None else env)
    errors = check_config(cfg)
    if errors:
        raise ConfigError(errors)
    return cfg


def _typed_config(text: str, env: typing.Mapping[str, str]) -> Config:
    """YAML, interpolated, format defaults applied, validated into the Structs."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "?"
        raise ConfigError([f"(yaml): {where}: {getattr(e, 'problem', e)}"]) from None
    missing: list[str] = []
    raw = interpolate({} if raw is None else raw, env, missing)
    format_defaults(raw)
    errors = [f"(env): ${{{name}}} is not set and has no default" for name in missing]
    errors.extend(validate(raw, Config))
    if errors:
        raise ConfigError(errors)
    cfg: Config = msgspec.convert(raw, Config, **_CONVERT)
    return cfg


# Multiline modes a format implies when the source does not name one: a Spring Boot log
# writes each stack-trace line on its own line, and one exception is one event.
FORMAT_MULTILINE = {"spring": "java"}


def format_defaults(raw: Any) -> None:
    """Give each source the multiline mode its `format:` implies, unless it sets one.

    `multiline: {mode: "off"}` keeps lines apart. Decided here, on the raw config, because
    a Struct default cannot tell "not written" from "written as the default".
    """
    sources = raw.get("sources") if isinstance(raw, dict) else None
    for source in sources if isinstance(sources, list) else []:
        fmt = source.get("format") if isinstance(source, dict) else None
        mode = FORMAT_MULTILINE.get(fmt) if isinstance(fmt, str) else None
        if mode is None:
            continue
        multiline = source.setdefault("multiline", {})
        if isinstance(multiline, dict):
            multiline.setdefault("mode", mode)


def validate(value: Any, type_: Any, path: str = "") -> list[str]:
    """Every error in `value` against `type_`, as `key.path: reason` strings."""
    struct_type, is_optional = _struct_in(type_)
    if struct_type is not None:
        if value is None and is_optional:
            return []
        return _validate_struct(value, struct_type, path)
    origin = typing.get_origin(type_)
    args = typing.get_args(type_)
    if origin is list and isinstance(value, list) and _struct_in(args[0])[0] is not None:
        return [e for i, v in enumerate(value) for e in validate(v, args[0], f"{path}[{i}]")]
    if origin is dict and isinstance(value, dict) and _struct_in(args[1])[0] is not None:
        return [e for k, v in value.items() for e in validate(v, args[1], _join(path, str(k)))]
    try:
        msgspec.convert(value, type_, **_CONVERT)
    except msgspec.ValidationError as e:
        return [f"{path or '(root)'}: {_reason(e)}"]
    return []


def _validate_struct(value: Any, struct_type: type[msgspec.Struct], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path or '(root)'}: expected a mapping, got {type(value).__name__}"]
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct_type)}
    errors = [
        f"{_join(path, str(k))}: unknown key (allowed: {', '.join(sorted(fields))})"
        for k in value
        if k not in fields
    ]
    for name, field in fields.items():
        if name not in value:
            if field.required:
                errors.append(f"{_join(path, name)}: required key is missing")
            continue
        errors.extend(validate(value[name], field.type, _join(path, name)))
    if not errors:
        known = {k: v for k, v in value.items() if k in fields}
        try:
            msgspec.convert(known, struct_type, **_CONVERT)
        except msgspec.ValidationError as e:
            errors.append(f"{path or '(root)'}: {_reason(e)}")
    return errors


def _struct_in(type_: Any) -> tuple[type[msgspec.Struct] | None, bool]:
    """The Struct type in `T` or `T | None`, and whether None is allowed."""
    if isinstance(type_, type) and issubclass(type_, msgspec.Struct):
        return type_, False
    if typing.get_origin(type_) in (Union, types.UnionType):
        args = typing.get_args(type_)
        structs = [a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        if len(structs) == 1:
            return structs[0], type(None) in args
    return None, False


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _reason(e: msgspec.ValidationError) -> str:
    text = str(e)
    # msgspec appends " - at `$...`" for nested values; turn it into our dotted path.
    text = re.sub(r" - at `\$(.*)`$", lambda m: f" (at {m.group(1) or 'value'})", text)
    for unit, hint in ((Seconds, "a duration"), (ByteSize, "a size")):
        text = text.replace(f"`{unit.__name__}`", hint)
    return text


# Values of these keys are secrets; `*_file` / `*_env` keys only name where they live.
_SECRET = re.compile(r"^(shared_key|password|hmac_key|.*secret|.*token)$", re.IGNORECASE)


def masked(cfg: Config) -> dict[str, Any]:
    """The effective config as plain data with every secret value replaced by `****`."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: ("****" if _SECRET.search(str(k)) and isinstance(v, str) and v else walk(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(_plain(cfg))
    return result


def _plain(obj: Any) -> Any:
    """Builtins with every field, defaults included (to_builtins would omit them)."""
    if isinstance(obj, msgspec.Struct):
        return {
            f.encode_name: _plain(getattr(obj, f.name)) for f in msgspec.structs.fields(type(obj))
        }
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, Seconds | ByteSize):
        return _unit_to_builtin(obj)
    return obj


def _unit_to_builtin(obj: Any) -> Any:
    if isinstance(obj, Seconds):
        return float(obj)
    if isinstance(obj, ByteSize):
        return int(obj)
    raise NotImplementedError(type(obj).__name__)


def default_config_path() -> str:
    return os.environ.get("COLLECTOR_CONFIG", "/etc/collector/collector.yaml")
