"""The per-source hot path: scan, parse, redact, enrich."""

import time

from collector.config import parse_config
from collector.flow import LineBatch
from collector.redact import Redactor
from collector.route.records import SourceRoute


def route_for(source_yaml: str) -> SourceRoute:
    cfg = parse_config(f"sources: [{source_yaml}]\nforward: {{servers: [{{host: h}}]}}\n", {})
    return SourceRoute(cfg.sources[0], Redactor(cfg.redact), cfg.metadata, {})


def batch(*lines: bytes) -> LineBatch:
    return LineBatch("s", "k#0", "/logs/app.log", list(lines), 0, 1, time.time_ns())


def test_regex_group_named_like_sad_is_redacted_though_the_scan_cannot_see_it() -> None:
    route = route_for(
        r"""{name: s, paths: [x], format: regex,
            parser: {regex: '^(?P<user>\w+) (?P<cvv>\d{3})$'}}"""
    )
    records, _ = route.records(batch(b"alice 123"))
    assert records[0].get("cvv") != "123"
    assert records[0]["user"] == "alice"


def test_flags_become_record_fields_and_file_path_is_added() -> None:
    from collector.flow import FLAG_PARTIAL, FLAG_TRUNCATED

    route = route_for("{name: s, paths: [x]}")
    b = batch(b'{"a": 1}', b'{"b": 2')
    b.flags = [FLAG_TRUNCATED, FLAG_PARTIAL]
    records, _ = route.records(b)
    assert records[0]["_truncated"] is True and records[0]["a"] == 1
    assert records[1]["_partial"] is True and records[1]["_parse_error"]
    assert records[0]["file"] == "/logs/app.log"


def test_raw_mode_ships_the_redacted_line_under_log() -> None:
    route = route_for("{name: s, paths: [x], mode: raw}")
    pan = "4111" + "1111" + "1111" + "1111"
    records, _ = route.records(batch(f"card {pan} ok".encode(), b"plain"))
    assert records[1]["log"] == "plain"
    leaked = pan in records[0]["log"]  # a bool, so a failure never prints the number
    assert not leaked, "raw mode shipped a card number"
    assert records[0]["log"].endswith(" ok")


def test_a_failing_parser_ships_text_redacted_and_does_not_raise() -> None:
    route = route_for("{name: s, paths: [x]}")

    class Broken:
        def parse(self, lines: list[bytes]) -> object:
            raise RuntimeError("bug")

    route.parser = Broken()  # type: ignore[assignment]
    pan = "4111" + "1111" + "1111" + "1111"
    records, _ = route.records(batch(f'{{"m": "{pan}"}}'.encode()))
    assert records[0]["_parse_error"] == "internal"
    leaked = pan in records[0]["message"]  # a bool, so a failure never prints the number
    assert not leaked, "the fallback path skipped redaction"


PAN = "4111" + "1111" + "1111" + "1111"  # a public test card number


def test_a_card_number_in_the_file_name_is_redacted_in_the_file_field_and_the_tag() -> None:
    route = route_for("{name: s, paths: [x], tag: 'app.${file}'}")
    b = batch(b'{"a": 1}')
    b.path = f"/logs/card-{PAN}.log"
    records, times = route.records(b)
    [(tag, _, _)] = route.groups(b.path, records, times)
    leaked = PAN in records[0]["file"] or PAN in tag  # a bool: a failure never prints it
    assert not leaked, "a card number in the file name left in the record or the tag"
    assert records[0]["file"].startswith("/logs/card-") and tag.startswith("app.card-")


def test_a_card_number_in_the_file_name_is_redacted_in_per_record_tags() -> None:
    route = route_for("{name: s, paths: [x], tag: '${file}.${record.level}'}")
    b = batch(b'{"level": "info"}')
    b.path = f"/logs/{PAN}.log"
    records, times = route.records(b)
    [(tag, _, _)] = route.groups(b.path, records, times)
    leaked = PAN in tag  # a bool: a failure never prints it
    assert not leaked, "a card number in the file name reached a tag"
    assert tag.endswith(".info")


def test_the_apps_own_file_and_kubernetes_fields_are_kept_and_ours_go_beside() -> None:
    cfg = parse_config("sources: [{name: s, paths: [x]}]\nforward: {servers: [{host: h}]}\n", {})
    route = SourceRoute(cfg.sources[0], Redactor(cfg.redact), cfg.metadata, {"pod_name": "p-0"})
    line = b'{"file": "Invoice.java", "kubernetes": "v1.30", "_file": "taken"}'
    records, _ = route.records(batch(line, b'{"m": 1}'))
    mine, plain = records
    assert mine["file"] == "Invoice.java" and mine["kubernetes"] == "v1.30"
    assert mine["_file"] == "taken"
    assert mine["__file"] == "/logs/app.log"
    assert mine["_kubernetes"] == {"pod_name": "p-0"}
    assert plain["file"] == "/logs/app.log" and plain["kubernetes"] == {"pod_name": "p-0"}
    assert "_file" not in plain and "_kubernetes" not in plain


def test_the_route_counts_on_the_counters_it_is_handed() -> None:
    from prometheus_client import CollectorRegistry, Counter

    from collector.route.counters import RouteCounters

    registry = CollectorRegistry()
    by_source = ["source"]
    counters = RouteCounters(
        lines_read=Counter("lines", "", by_source, registry=registry),
        bytes_read=Counter("bytes", "", by_source, registry=registry),
        records_parsed=Counter("parsed", "", by_source, registry=registry),
        parse_errors=Counter("errors", "", ["source", "reason"], registry=registry),
        records_walked=Counter("walked", "", registry=registry),
        lines_truncated=Counter("truncated", "", by_source, registry=registry),
        partial_lines=Counter("partial", "", by_source, registry=registry),
    )
    cfg = parse_config("sources: [{name: s, paths: [x]}]\nforward: {servers: [{host: h}]}\n", {})
    route = SourceRoute(cfg.sources[0], Redactor(cfg.redact), cfg.metadata, {}, counters)
    route.records(batch(b'{"a": 1}', b"not json"))

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("lines_total", source="s") == 2
    assert value("parsed_total", source="s") == 2
    errors = [s for f in registry.collect() for s in f.samples if s.name == "errors_total"]
    assert sum(s.value for s in errors) == 1, "the line that is not JSON"


def test_a_parser_that_cannot_be_built_is_refused_naming_the_source_and_key() -> None:
    import msgspec
    import pytest

    cfg = parse_config("sources: [{name: s, paths: [x]}]\nforward: {servers: [{host: h}]}\n", {})
    source = msgspec.structs.replace(cfg.sources[0], format="regex")  # validation skipped
    with pytest.raises(ValueError, match=r"^sources\[s\]\.parser\.regex: required"):
        SourceRoute(source, Redactor(cfg.redact), cfg.metadata, {})
