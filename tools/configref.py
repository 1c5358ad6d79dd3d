"""Writes docs/config.md, the one config reference, from the config Structs themselves.

The tables used to live in three places (README, docs/*.md, config/collector.yaml) and
drifted. Now the Structs are the source: each key's type and default come from msgspec's
view of the Struct, its description from the class docstring and the comment lines above
(or beside) the field in the source. `make config-ref` rewrites the file; a test fails when
the checked-in file is not what this prints.

    python -m tools.configref            # print
    python -m tools.configref --write    # rewrite docs/config.md
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import textwrap
import tokenize
import types
import typing
from pathlib import Path
from typing import Any, Union

import msgspec

from collector.config import Config
from collector.units import ByteSize, Seconds

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "config.md"

HEADER = """\
# Configuration reference

Generated from the config Structs by `make config-ref` (tools/configref.py); a test fails
when this file and the code disagree, so edit the Struct's comment, not this page.

The file is YAML. `${VAR}` and `${VAR:-default}` are replaced by environment variables (the
value is inserted as text, never re-read as YAML). Durations take `250ms`, `5s`, `1m`, `2h`;
sizes take `512KiB`, `64MiB`, `1GB`. Unknown keys are errors. `collector check-config` runs
every check `collector run` runs and reports each problem as `key.path: reason` (exit 2).

Each section below names the Struct it is read into and the module that defines it. The
config keys are the users' names and stay as they are; the code's names follow the data
flow. Where they differ: a `sources[]` entry is read by two packages, `collector/tail/`
(which files, how lines are read and joined, rotation: `TailConfig`) and `collector/route/`
(format, parser, tag, mode: `SourceConfig`, which extends `TailConfig`), and parsed by
`collector/parse/` (`sources[].parser`); `pipeline:` holds the bounds the wiring
(`collector/pipeline.py`) applies across stages; `log:` is the collector's own logging
(`collector/diagnostics.py`). Every other section is read by the package of its name
(`redact:` by `collector/redact/`, `forward:` by `collector/forward/`, `metrics:` by
`collector/metrics/`, its `derived` entries by `collector/derived.py`, `metadata:` by
`collector/route/metadata.py`). The collector's own
log lines name the package that wrote them (`collector.tail`, `collector.route`,
`collector.redact`, `collector.forward`, `collector.metrics`, `collector.pipeline`; the
commands log as `collector`).
"""


def _comments(cls: type) -> dict[str, str]:
    """Field name -> the comment lines directly above it, or the comment on its line, in
    the class or the Struct it extends (`SourceConfig` adds to tail's `TailConfig`)."""
    out: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if base is not cls and issubclass(base, msgspec.Struct) and base is not msgspec.Struct:
            out.update(_own_comments(base))
    out.update(_own_comments(cls))
    return out


def _own_comments(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    trailing: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            trailing[tok.start[0]] = tok.string.lstrip("#").strip()
    out: dict[str, str] = {}
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    for node in body.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        row = node.lineno - 1  # 1-based line above the field
        while row >= 1 and lines[row - 1].strip().startswith("#"):
            above.insert(0, lines[row - 1].strip().lstrip("#").strip())
            row -= 1
        beside = trailing.get(node.lineno, "")
        text = " ".join([*above, beside]).strip()
        if text:
            out[node.target.id] = text
    return out


def _struct_of(type_: Any) -> tuple[type[msgspec.Struct] | None, str]:
    """The Struct a field holds (directly, in a list, or optional), and the path suffix."""
    origin = typing.get_origin(type_)
    if isinstance(type_, type) and issubclass(type_, msgspec.Struct):
        return type_, ""
    if origin is list:
        inner, _ = _struct_of(typing.get_args(type_)[0])
        return inner, "[]"
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(type_):
            inner, suffix = _struct_of(arg)
            if inner is not None:
                return inner, suffix
    return None, ""


def _type_name(type_: Any) -> str:
    if type_ is Seconds:
        return "duration"
    if type_ is ByteSize:
        return "size"
    if type_ is type(None):
        return "null"
    origin = typing.get_origin(type_)
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in typing.get_args(type_))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(type_))
    if origin is list:
        return f"list of {_type_name(typing.get_args(type_)[0])}"
    if origin is dict:
        key, value = typing.get_args(type_)
        return f"map of {_type_name(key)} to {_type_name(value)}"
    if isinstance(type_, type) and issubclass(type_, msgspec.Struct):
        return "map"
    return getattr(type_, "__name__", str(type_))


def _default(field: msgspec.structs.FieldInfo) -> str:
    if field.required:
        return "required"
    value = field.default if field.default is not msgspec.NODEFAULT else field.default_factory()
    if isinstance(value, msgspec.Struct):
        return "see below"
    if isinstance(value, Seconds):
        return f"`{_seconds(value)}`"
    if isinstance(value, ByteSize):
        return f"`{_size(value)}`"
    if value is None:
        return "none"
    if value == [] or value == {}:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _seconds(value: float) -> str:
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1), ("ms", 1e-3)):
        if value >= factor and abs(value / factor - round(value / factor)) < 1e-9:
            return f"{round(value / factor)}{unit}"
    return f"{value}s"


def _size(value: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= factor and value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(path: str, cls: type[msgspec.Struct], out: list[str]) -> None:
    hints = typing.get_type_hints(cls)
    comments = _comments(cls)
    out.append(f"## `{path}`\n" if path else "## top level\n")
    out.append(_where(cls) + "\n")
    doc = inspect.getdoc(cls)
    if doc and cls.__doc__:  # the class's own docstring, not msgspec.Struct's
        out.append(doc + "\n")
    out.append("| key | type | default | description |")
    out.append("|---|---|---|---|")
    nested: list[tuple[str, type[msgspec.Struct]]] = []
    for field in msgspec.structs.fields(cls):
        type_ = hints[field.name]
        inner, suffix = _struct_of(type_)
        key = field.encode_name
        child = f"{path}.{key}{suffix}" if path else f"{key}{suffix}"
        description = comments.get(field.name, "")
        if inner is not None:
            nested.append((child, inner))
            description = (description + f" See [`{child}`](#{_anchor(child)}).").strip()
        out.append(
            f"| `{key}` | {_cell(_type_name(type_))} | {_default(field)} | {_cell(description)} |"
        )
    out.append("")
    for child, inner in nested:
        _section(child, inner, out)


def _where(cls: type[msgspec.Struct]) -> str:
    """Which Struct a section is read into, where it is defined, and what it extends."""
    bases = [
        b
        for b in cls.__mro__[1:]
        if issubclass(b, msgspec.Struct) and b is not msgspec.Struct and b is not cls
    ]
    extends = "".join(f", extending `{b.__name__}` ({_path(b)})" for b in bases)
    return f"Read into `{cls.__name__}` ({_path(cls)}){extends}."


def _path(cls: type) -> str:
    return "`" + cls.__module__.replace(".", "/") + ".py`"


def _anchor(path: str) -> str:
    """GitHub's heading anchor for "## `path`"."""
    return "".join(c for c in path.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")


def render() -> str:
    out = [HEADER]
    _section("", Config, out)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.configref", description=__doc__)
    p.add_argument("--write", action="store_true", help=f"rewrite {OUT.relative_to(REPO)}")
    args = p.parse_args(argv)
    text = render()
    if args.write:
        OUT.write_text(text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
