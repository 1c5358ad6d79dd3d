from pathlib import Path

import pytest

from collector.config import ConfigError, load_config, masked, parse_config
from collector.units import parse_duration, parse_size

MINIMAL = """
sources: [{name: a, paths: ["/logs/*.log"]}]
forward: {servers: [{host: h}]}
"""


def errors_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, env or {})
    return e.value.errors


def test_minimal_config_gets_documented_defaults() -> None:
    cfg = parse_config(MINIMAL, {})
    assert cfg.forward.servers[0].port == 24224
    assert cfg.forward.require_ack is True
    assert cfg.sources[0].format == "json"
    assert cfg.pipeline.max_in_flight_bytes == 8 * 1024 * 1024


def test_every_error_is_reported_with_its_key_path() -> None:
    errors = errors_of("""
sources:
  - name: a
    paths: ["/x/*.log"]
    format: xml
    colour: blue
forward:
  servers: [{host: h, port: 99999}]
  flush_interval: 5 parsecs
""")
    joined = "\n".join(errors)
    assert "sources[0].format:" in joined
    assert "sources[0].colour: unknown key" in joined
    assert "forward.servers[0]" in joined and "port" in joined
    assert "forward.flush_interval:" in joined
    assert len(errors) == 4


def test_missing_required_keys_are_named() -> None:
    errors = errors_of("sources: [{name: a}]\n")
    assert "sources[0].paths: required key is missing" in errors
    assert "forward: required key is missing" in errors


def test_env_interpolation_with_defaults_and_typed_whole_values() -> None:
    text = """
sources: [{name: a, paths: ["${LOG_DIR:-/var/log}/*.log"], tag: "app.${file}"}]
forward: {servers: [{host: "${HOST}", port: "${PORT:-24225}"}]}
# comments may mention ${UNSET_IN_COMMENT} freely
"""
    cfg = parse_config(text, {"HOST": "agg"})
    assert cfg.sources[0].paths == ["/var/log/*.log"]
    assert cfg.sources[0].tag == "app.${file}"  # tag fields are not environment variables
    assert cfg.forward.servers[0].host == "agg"
    assert cfg.forward.servers[0].port == 24225


def test_unset_variable_without_default_is_an_error() -> None:
    errors = errors_of(MINIMAL.replace("host: h", 'host: "${NOPE}"'))
    assert any("${NOPE} is not set" in e for e in errors)


def test_masked_hides_secrets() -> None:
    cfg = parse_config(
        MINIMAL.replace(
            "servers: [{host: h}]", "servers: [{host: h}], security: {shared_key: s3cret}"
        ),
        {},
    )
    shown = masked(cfg)
    assert shown["forward"]["security"]["shared_key"] == "****"
    assert "s3cret" not in repr(shown)


def test_units() -> None:
    assert parse_duration("250ms") == 0.25
    assert parse_duration("2m") == 120
    assert parse_duration(3) == 3
    assert parse_size("64MiB") == 64 * 1024 * 1024
    assert parse_size("1GB") == 10**9
    with pytest.raises(ValueError):
        parse_duration("soon")
    with pytest.raises(ValueError):
        parse_size("-1")


def test_shipped_default_config_is_valid() -> None:
    cfg = load_config(str(Path(__file__).parents[1] / "config" / "collector.yaml"), {})
    assert cfg.sources[0].name == "payment"


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize("secret", ["p@ss #word", "0123456", "true", "[a, b]", "{k: v}", "1e3"])
def test_an_interpolated_secret_keeps_its_literal_text(secret: str) -> None:
    text = MINIMAL.replace(
        "servers: [{host: h}]",
        'servers: [{host: h}], security: {shared_key: "${KEY}", username: u, password: "${PW}"}',
    )
    cfg = parse_config(text, {"KEY": secret, "PW": secret})
    assert cfg.forward.security is not None
    same = cfg.forward.security.shared_key == secret and cfg.forward.security.password == secret
    assert same, "an interpolated secret was read again as YAML"


def test_interpolated_values_are_strings_that_typed_keys_convert() -> None:
    text = """
sources: [{name: a, paths: ["${DIR}/*.log"], max_open_files: "${FILES}"}]
forward: {servers: [{host: "${HOST}", port: "${PORT}"}], require_ack: "${ACK}"}
"""
    cfg = parse_config(
        text, {"DIR": "/l", "FILES": "12", "HOST": "10", "PORT": "24230", "ACK": "false"}
    )
    assert cfg.sources[0].max_open_files == 12
    assert cfg.forward.servers[0].host == "10"  # a host of digits stays a string
    assert cfg.forward.servers[0].port == 24230
    assert cfg.forward.require_ack is False
    errors = errors_of(text, {"DIR": "/l", "FILES": "many", "HOST": "h", "PORT": "1", "ACK": "no"})
    assert any(e.startswith("sources[0].max_open_files:") for e in errors)


def test_spring_joins_java_stack_traces_unless_multiline_says_otherwise() -> None:
    def mode_of(source: str) -> str:
        cfg = parse_config(f"sources: [{source}]\nforward: {{servers: [{{host: h}}]}}\n", {})
        return cfg.sources[0].multiline.mode

    assert mode_of("{name: a, paths: [x], format: spring}") == "java"
    assert (
        mode_of("{name: a, paths: [x], format: spring, multiline: {flush_timeout: 2s}}") == "java"
    )
    assert mode_of("{name: a, paths: [x], format: spring, multiline: {mode: 'off'}}") == "off"
    assert mode_of("{name: a, paths: [x], format: json}") == "off"
    assert mode_of("{name: a, paths: [x]}") == "off"


def _source(extra: str) -> str:
    return f"sources: [{{name: a, paths: [x], {extra}}}]\nforward: {{servers: [{{host: h}}]}}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_source("format: regex"), "sources[0].parser.regex: required when format is regex"),
        (_source("tag: 'app.${nope}'"), "sources[0].tag: unknown variable ${nope}"),
        (
            _source("multiline: {mode: start_pattern, start_pattern: '^(INFO'}"),
            "sources[0].multiline.start_pattern: does not compile",
        ),
        (_source("read_chunk_bytes: 0"), "sources[0].read_chunk_bytes: must be greater than 0"),
        (_source("poll_interval: 0s"), "sources[0].poll_interval: must be greater than 0"),
        (_source("multiline: {max_bytes: 0}"), "sources[0].multiline.max_bytes: must be greater"),
        (
            MINIMAL + "pipeline: {max_in_flight_bytes: 0}\n",
            "pipeline.max_in_flight_bytes: must be greater than 0",
        ),
        (
            MINIMAL + "pipeline: {checkpoint_interval: 0}\n",
            "pipeline.checkpoint_interval: must be greater than 0",
        ),
        (
            MINIMAL.replace("servers: [{host: h}]", "servers: [{host: h}], flush_interval: 0ms"),
            "forward.flush_interval: must be greater than 0",
        ),
        (MINIMAL + "metrics: {live_window: 0}\n", "metrics.live_window: must be greater than 0"),
    ],
)
def test_values_run_would_reject_or_spin_on_are_config_errors(text: str, expected: str) -> None:
    errors = errors_of(text)
    assert any(e.startswith(expected) for e in errors), errors


def test_a_raw_source_needs_no_regex() -> None:
    parse_config(_source("format: regex, mode: raw"), {})


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(str(path), env or {})
    return e.value.errors


def test_missing_secret_files_unset_env_and_bad_tls_files_are_config_errors(
    tmp_path: Path,
) -> None:
    (tmp_path / "not.pem").write_text("just text\n")
    (tmp_path / "empty").write_text("\n")
    missing = tmp_path / "missing"
    errors = _load(
        tmp_path,
        f"""
sources: [{{name: a, paths: [x]}}]
forward:
  servers: [{{host: h}}]
  tls: {{enabled: true, ca_file: {missing}, cert_file: {tmp_path / "not.pem"},
         key_file: {tmp_path / "not.pem"}}}
  security: {{shared_key_file: {tmp_path / "empty"}, username: u, password_env: NO_PW}}
redact: {{pan_policy: hmac, hmac_key_file: {missing}}}
""",
    )
    assert len(errors) == 6, errors
    expected = [
        f"forward.tls.ca_file: cannot read {missing}: No such file or directory",
        "forward.tls.cert_file: ",
        "forward.tls.key_file: ",
        f"forward.security.shared_key_file: {tmp_path / 'empty'} is empty",
        "forward.security.password_env: environment variable NO_PW is not set",
        f"redact.hmac_key_file: cannot read {missing}",
    ]
    for error, prefix in zip(errors, expected, strict=True):
        assert error.startswith(prefix), (error, prefix)
    assert "not a PEM file" in errors[1]


def test_secret_env_and_files_that_exist_pass(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("s3cret\n")
    path = tmp_path / "c.yaml"
    path.write_text(
        MINIMAL.replace(
            "servers: [{host: h}]",
            f"servers: [{{host: h}}], security: {{shared_key_file: {tmp_path / 'key'}, "
            "username: u, password_env: PW}",
        )
    )
    load_config(str(path), {"PW": "x"})
    assert _load(tmp_path, path.read_text(), {}) == [
        "forward.security.password_env: environment variable PW is not set or empty"
    ]


def test_an_unresolvable_metrics_host_is_a_config_error(tmp_path: Path) -> None:
    errors = _load(tmp_path, MINIMAL + "metrics: {listen: 'no-such-host.invalid:2020'}\n")
    assert len(errors) == 1 and errors[0].startswith(
        "metrics.listen: cannot resolve host 'no-such-host.invalid'"
    )
