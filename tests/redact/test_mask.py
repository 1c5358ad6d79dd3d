"""Masking policies and the HMAC secret's sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.redact.config import RedactConfig
from collector.redact.mask import TOKEN_PREFIX, PanMasker, load_hmac_key

PAN = "4111111111111111"


def test_keep_first6_last4_is_the_default() -> None:
    assert RedactConfig().pan_policy == "keep_first6_last4"
    assert PanMasker("keep_first6_last4")(PAN) == "411111******1111"


def test_short_pans_keep_at_least_six_hidden() -> None:
    masked = PanMasker("keep_first6_last4")("378282246310005")
    assert masked == "37828******0005"
    assert masked.count("*") >= 6


def test_keep_last4_and_mask_all() -> None:
    assert PanMasker("keep_last4")(PAN) == "*" * 12 + "1111"
    assert PanMasker("mask_all")(PAN) == "*" * 16


def test_hmac_tokens_are_stable_keyed_and_digit_free() -> None:
    a = PanMasker("hmac", b"secret-a")
    b = PanMasker("hmac", b"secret-b")
    token = a(PAN)
    assert token.startswith(TOKEN_PREFIX)
    assert token == a(PAN)
    assert token != b(PAN)
    assert token != a("5555555555554444")
    assert not any(c.isdigit() for c in token)


def test_hmac_needs_a_key() -> None:
    with pytest.raises(ValueError):
        RedactConfig(pan_policy="hmac")
    with pytest.raises(ValueError):
        PanMasker("hmac", None)


def test_hmac_key_from_config_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_hmac_key(RedactConfig(pan_policy="hmac", hmac_key="abc")) == b"abc"
    keyfile = tmp_path / "key"
    keyfile.write_text("from-file\n")
    assert (
        load_hmac_key(RedactConfig(pan_policy="hmac", hmac_key_file=str(keyfile))) == b"from-file"
    )
    monkeypatch.setenv("PAN_KEY", "from-env")
    assert load_hmac_key(RedactConfig(pan_policy="hmac", hmac_key_env="PAN_KEY")) == b"from-env"
    assert load_hmac_key(RedactConfig()) is None


def test_unreadable_or_empty_key_sources_fail_at_startup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="hmac_key_file"):
        load_hmac_key(RedactConfig(pan_policy="hmac", hmac_key_file=str(tmp_path / "missing")))
    (tmp_path / "empty").write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_hmac_key(RedactConfig(pan_policy="hmac", hmac_key_file=str(tmp_path / "empty")))
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    with pytest.raises(ValueError, match="NO_SUCH_KEY"):
        load_hmac_key(RedactConfig(pan_policy="hmac", hmac_key_env="NO_SUCH_KEY"))
