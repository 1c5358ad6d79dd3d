"""/metrics bodies: the Prometheus text format 0.0.4 and OpenMetrics 1.0.0, negotiated.

What prometheus_client 0.2x serves for the same families, byte for byte (tests/metrics/
test_exposition.py renders both and parses ours with its parsers), without importing it:

- The Accept header picks the format the way prometheus_client's `choose_encoder` does:
  the first `application/openmetrics-text` entry (Prometheus lists it first) or
  `text/plain; version>=1.0.0` wins, in the header's order, not by q; else text 0.0.4.
  An `escaping=` parameter (Prometheus 3) names how names outside the legacy character
  set are written; the collector's own names are all legacy, so it only shows in the
  Content-Type, as before.
- gzip when Accept-Encoding lists it.
- `?name[]=` keeps only the samples of those names.

Escaping is the formats': label values escape backslash, newline and double quote; HELP
escapes backslash and newline in the text format, and the double quote too in OpenMetrics.
One deliberate difference: for a metric name with a colon, prometheus_client's OpenMetrics
writer turned the colon of each sample name into `_` (its TYPE line kept it); here sample
names are written as the format says, the same in both formats.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterable
from typing import Any

from collector.metrics.core import go_float

TEXT_0_0_4 = "text/plain; version=0.0.4; charset=utf-8"
TEXT_1_0_0 = "text/plain; version=1.0.0; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"

ALLOW_UTF8, UNDERSCORES, DOTS, VALUES = "allow-utf-8", "underscores", "dots", "values"
_ESCAPINGS = (ALLOW_UTF8, UNDERSCORES, DOTS, VALUES)

_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

Writer = Callable[[Iterable[Any]], bytes]


def _legacy_metric(name: str) -> bool:
    return _LEGACY_METRIC.fullmatch(name) is not None


def _legacy_label(name: str) -> bool:
    return _LEGACY_LABEL.fullmatch(name) is not None and not name.startswith("__")


def _quoted(s: str) -> str:
    """A label value (or a quoted name): backslash, newline, double quote escaped."""
    return s.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _rune_ok(c: str, i: int, metric: bool) -> bool:
    return ("a" <= c <= "z" or "A" <= c <= "Z" or c == "_" or ("0" <= c <= "9" and i > 0)) or (
        metric and c == ":"
    )


def _escape_name(name: str, escaping: str, metric: bool) -> str:
    """A metric (or label) name under one of the `escaping=` schemes of the Accept header."""
    legacy = _legacy_metric(name) if metric else _legacy_label(name)
    if not name or (legacy and escaping in (UNDERSCORES, VALUES)):
        return name
    if escaping == ALLOW_UTF8:
        return name if legacy else f'"{_quoted(name)}"'
    out = ["U__"] if escaping == VALUES else []
    for i, c in enumerate(name):
        if escaping == UNDERSCORES:
            out.append(c if _rune_ok(c, i, metric) else "_")
        elif c == "_":
            out.append("__")
        elif escaping == DOTS and c == ".":
            out.append("_dot_")
        elif _rune_ok(c, i, metric):
            out.append(c)
        elif escaping == DOTS:
            out.append("__")
        elif 0xD800 <= ord(c) <= 0xDFFF:  # a lone surrogate is no character
            out.append("_FFFD_")
        else:
            out.append(f"_{ord(c):x}_")
    return "".join(out)


def _labels(labels: dict[str, str], escaping: str) -> str:
    return ",".join(
        f'{_escape_name(k, escaping, False)}="{_quoted(v)}"' for k, v in sorted(labels.items())
    )


def _series(name: str, labels: dict[str, str], escaping: str) -> str:
    """`name{labels}`, or `{"name",labels}` for a UTF-8 name under allow-utf-8."""
    inner = _labels(labels, escaping) if labels else ""
    if escaping == ALLOW_UTF8 and not _legacy_metric(name):
        return "{" + _escape_name(name, escaping, True) + ("," + inner if inner else "") + "}"
    return _escape_name(name, escaping, True) + ("{" + inner + "}" if inner else "")


# The text format has no counter, info, stateset, gaugehistogram or unknown families.
_TEXT_NAME_SUFFIX = {"counter": "_total", "info": "_info"}
_TEXT_TYPE = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram"}
_TEXT_TYPE_OF_UNKNOWN = "untyped"
# Samples the text format has no place for in their family: a gauge family of their own.
_OPENMETRICS_ONLY = ("_created", "_gsum", "_gcount")


def text_0_0_4(families: Iterable[Any], escaping: str = UNDERSCORES) -> bytes:
    """The classic Prometheus text format (what `promtool check metrics` lints)."""
    out: list[str] = []
    for family in families:
        name, kind = family.name, family.type
        shown = _escape_name(name + _TEXT_NAME_SUFFIX.get(kind, ""), escaping, True)
        kind = _TEXT_TYPE_OF_UNKNOWN if kind == "unknown" else _TEXT_TYPE.get(kind, kind)
        help_text = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {shown} {help_text}\n# TYPE {shown} {kind}\n")
        moved: dict[str, list[str]] = {}
        for s in family.samples:
            line = _series(s.name, s.labels, escaping) + " " + go_float(s.value)
            if s.timestamp is not None:
                line += f" {int(float(s.timestamp) * 1000):d}"
            suffix = next((x for x in _OPENMETRICS_ONLY if s.name == name + x), None)
            if suffix is None:
                out.append(line + "\n")
            else:
                moved.setdefault(suffix, []).append(line + "\n")
        for suffix, lines in sorted(moved.items()):
            extra = _escape_name(name + suffix, escaping, True)
            out.append(f"# HELP {extra} {help_text}\n# TYPE {extra} gauge\n")
            out.extend(lines)
    return "".join(out).encode()


def _exemplar(family: Any, s: Any) -> str:
    ex = s.exemplar
    if ex is None:
        return ""
    kind, sample = family.type, s.name
    allowed = (
        (kind == "counter" and sample.endswith("_total"))
        or (kind in ("histogram", "gaugehistogram") and sample.endswith("_bucket"))
        or (kind == "histogram" and sample == family.name)
    )
    if not allowed:
        raise ValueError(
            f"Metric {family.name} has exemplars, but is not a histogram bucket or counter"
        )
    labels = ",".join(f'{k}="{_quoted(v)}"' for k, v in sorted(ex.labels.items()))
    stamp = "" if ex.timestamp is None else f" {ex.timestamp}"
    return f" # {{{labels}}} {go_float(ex.value)}{stamp}"


def openmetrics_1_0_0(families: Iterable[Any], escaping: str = UNDERSCORES) -> bytes:
    """OpenMetrics 1.0.0: what Prometheus asks for first; it carries the exemplars."""
    out: list[str] = []
    for family in families:
        shown = _escape_name(family.name, escaping, True)
        out.append(f"# HELP {shown} {_quoted(family.documentation)}\n")
        out.append(f"# TYPE {shown} {family.type}\n")
        if family.unit:
            out.append(f"# UNIT {shown} {family.unit}\n")
        for s in family.samples:
            if getattr(s, "native_histogram", None):  # not in OpenMetrics 1.0
                continue
            stamp = "" if s.timestamp is None else f" {s.timestamp}"
            value = go_float(s.value)
            out.append(f"{_series(s.name, s.labels, escaping)} {value}{stamp}")
            out.append(_exemplar(family, s) + "\n")
    out.append("# EOF\n")
    return "".join(out).encode()


def _param(params: list[str], key: str) -> str:
    for p in params:
        k, eq, v = p.strip().partition("=")
        if eq and k == key:
            return v
    return ""


def _version(v: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in v.split("."))


def negotiate(accept: str | None) -> tuple[Writer, str]:
    """The writer and Content-Type for an Accept header (prometheus_client's choice)."""
    for entry in (accept or "").split(","):
        media, *params = entry.split(";")
        media = media.strip()
        if media not in ("application/openmetrics-text", "text/plain"):
            continue
        version = _param(params, "version")
        escaping = _param(params, "escaping")
        escaping = escaping if escaping in _ESCAPINGS else UNDERSCORES
        if media == "application/openmetrics-text":
            if not version:
                return _with(openmetrics_1_0_0, UNDERSCORES), OPENMETRICS
            if _at_least_1(version):
                content_type = (
                    f"application/openmetrics-text; version={version}; charset=utf-8; "
                    f"escaping={escaping}"
                )
                return _with(openmetrics_1_0_0, escaping), content_type
        elif version and _at_least_1(version):
            return _with(text_0_0_4, escaping), f"{TEXT_1_0_0}; escaping={escaping}"
    return text_0_0_4, TEXT_0_0_4


def _at_least_1(version: str) -> bool:
    try:
        return _version(version) >= (1, 0, 0)
    except TypeError:  # a word where a number was expected: not a version we know
        return False


def _with(writer: Callable[[Iterable[Any], str], bytes], escaping: str) -> Writer:
    return lambda families: writer(families, escaping)


def gzip_accepted(accept_encoding: str | None) -> bool:
    return any(
        e.split(";")[0].strip().lower() == "gzip" for e in (accept_encoding or "").split(",")
    )


def unquote(s: str, encoding: str = "utf-8", plus: bool = True) -> str:
    """Percent-decoding: of a query part (`+` a space, bytes UTF-8), or with
    `plus=False, encoding="latin-1"` of a path (as WSGI servers decode PATH_INFO)."""
    raw = s.replace("+", " ") if plus else s
    if "%" not in raw:
        return raw
    data = _PERCENT.sub(lambda m: bytes([int(m[1], 16)]), raw.encode(encoding, "replace"))
    return data.decode(encoding, "replace")


_PERCENT = re.compile(rb"%([0-9a-fA-F]{2})")


def query_names(query: str) -> list[str] | None:
    """The `name[]` values of a query string, or None when there are none."""
    names = []
    for part in query.split("&"):
        key, eq, value = part.partition("=")
        if eq and value and unquote(key) == "name[]":
            names.append(unquote(value))
    return names or None


def metrics_response(
    registry: Any, method: str, query: str, accept: str | None, accept_encoding: str | None
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and body of a /metrics request (as prometheus_client's WSGI app)."""
    allow = [("Allow", "OPTIONS,GET")]
    if method == "OPTIONS":
        return "200 OK", allow, b""
    if method != "GET":
        status = "405 Method Not Allowed"
        return status, allow, f"# HTTP {status}: {method}; use OPTIONS or GET\n".encode()
    writer, content_type = negotiate(accept)
    names = query_names(query)
    if names is not None:
        registry = registry.restricted_registry(names)
    body = writer(registry.collect())
    headers = [("Content-Type", content_type)]
    if gzip_accepted(accept_encoding):
        body = gzip.compress(body)
        headers.append(("Content-Encoding", "gzip"))
    return "200 OK", headers, body
