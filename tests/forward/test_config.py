"""The `forward:` config: defaults and the errors an operator sees."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from collector.config import validate
from collector.forward.config import ForwardConfig
from collector.units import dec_hook

ONE = {"servers": [{"host": "fluentd"}]}


def test_defaults_are_at_least_once_and_retry_forever() -> None:
    cfg = msgspec.convert(ONE, ForwardConfig, dec_hook=dec_hook)
    assert cfg.require_ack and cfg.retry_limit == 0
    assert (cfg.compress, cfg.chunk_max_bytes, cfg.flush_interval) == ("none", 1024 * 1024, 1.0)
    assert cfg.servers[0].port == 24224


def test_human_units() -> None:
    cfg = msgspec.convert(
        {**ONE, "ack_timeout": "90s", "chunk_max_bytes": "512KiB"}, ForwardConfig, dec_hook=dec_hook
    )
    assert (cfg.ack_timeout, cfg.chunk_max_bytes) == (90.0, 512 * 1024)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"servers": []}, "at least one server"),
        ({"servers": [{"host": "a", "standby": True}]}, "must not be a standby"),
        ({**ONE, "max_chunks_in_flight": 0}, "max_chunks_in_flight"),
        ({**ONE, "compress": "zstd"}, "compress"),
        ({**ONE, "compress_level": 10}, "compress_level"),
        ({**ONE, "ack_timeout": 0}, "ack_timeout"),
        ({**ONE, "retry_initial": "10s", "retry_max": "1s"}, "retry_max"),
        ({**ONE, "tls": {"enabled": True, "cert_file": "c.pem"}}, "cert_file and key_file"),
        ({**ONE, "security": {"username": "u", "password": "p"}}, "exactly one of shared_key"),
        ({**ONE, "security": {"shared_key": "k", "shared_key_file": "f"}}, "exactly one"),
        ({**ONE, "security": {"shared_key": "k", "username": "u"}}, "username and password"),
        ({**ONE, "security": {"shared_key": "k", "password": "p"}}, "username and password"),
        ({"servers": [{"host": "a", "port": 0}]}, "port"),
        ({"servers": [{"host": "a", "weight": 0}]}, "weight"),
        ({**ONE, "retries": 3}, "unknown key"),
    ],
)
def test_invalid(raw: dict[str, Any], error: str) -> None:
    errors = validate(raw, ForwardConfig)
    assert any(error in e for e in errors), errors


def test_secret_values_do_not_appear_in_errors() -> None:
    raw = {**ONE, "security": {"shared_key": "hunter2", "shared_key_env": "X"}}
    errors = validate(raw, ForwardConfig)
    assert errors and not any("hunter2" in e for e in errors)


def test_unusable_tls_file_or_secret_fails_at_start_naming_the_key(tmp_path: Any) -> None:
    from collector.forward.client import ForwardClient, ForwardSetupError
    from collector.metrics.internal import FORWARD

    def cfg(**extra: Any) -> ForwardConfig:
        return msgspec.convert({**ONE, **extra}, ForwardConfig, dec_hook=dec_hook)

    absent = str(tmp_path / "absent.pem")
    with pytest.raises(ForwardSetupError, match=r"forward\.tls"):
        ForwardClient(cfg(tls={"enabled": True, "ca_file": absent}), print, counters=FORWARD)
    with pytest.raises(ForwardSetupError, match=r"forward\.security\.shared_key: cannot read"):
        ForwardClient(cfg(security={"shared_key_file": absent}), print, counters=FORWARD)
