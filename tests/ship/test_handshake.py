"""Handshake digests, checked against the formula and against FluentServer's own code."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from collector.ship.config import SecurityConfig
from collector.ship.handshake import (
    Credentials,
    HandshakeError,
    Helo,
    Secret,
    build_ping,
    check_pong,
    load_credentials,
    parse_helo,
    password_digest,
    shared_key_digest,
)
from tests.support.receiver import REPO

NONCE = bytes.fromhex("00ff10203040506070809a0b0c0d0e0f")
AUTH = bytes.fromhex("aa" * 16)
CREDS = Credentials(
    self_hostname="payments-pod", shared_key=Secret("k3y"), username="u", password=Secret("p")
)


def test_shared_key_digest_is_sha512_of_salt_host_nonce_key() -> None:
    want = hashlib.sha512(b"salt" + b"host" + NONCE + b"key").hexdigest()
    assert shared_key_digest("salt", "host", NONCE, "key") == want
    # A str nonce (Fluentd sends hex strings) is hashed as its UTF-8 bytes.
    assert (
        shared_key_digest("salt", "host", "abc", "key")
        == hashlib.sha512(b"salthostabckey").hexdigest()
    )


def test_password_digest_is_sha512_of_auth_salt_user_password() -> None:
    assert password_digest(AUTH, "u", "p") == hashlib.sha512(AUTH + b"up").hexdigest()


def node(script: str) -> object:
    """Run `script` with FluentServer's protocol module as `p`; returns its JSON output."""
    prelude = "const p = require('@fluent-org/logger/build/src/protocol');\n"
    out = subprocess.run(
        ["node", "-e", prelude + script], cwd=REPO, capture_output=True, check=True, timeout=20
    ).stdout
    return json.loads(out)


@pytest.mark.integration
def test_ping_passes_fluentservers_check_and_its_pong_passes_ours() -> None:
    helo = Helo(nonce=NONCE, auth=AUTH, keepalive=True)
    ping, salt = build_ping(helo, CREDS, "srv", salt="0123456789abcdef")
    pong = node(
        f"""
        const ping = {json.dumps(ping)};
        const nonce = Buffer.from('{NONCE.hex()}', 'hex');
        const salt = Buffer.from('{AUTH.hex()}', 'hex');
        const r = p.checkPing(ping, 'aggregator', {{nonce, key: 'k3y'}},
                              {{salt, userDict: {{u: 'p'}}}});
        console.log(JSON.stringify(p.generatePong('aggregator', true, '', r.sharedKeyInfo)));
        """
    )
    assert check_pong(pong, helo, CREDS, salt, "srv") == "aggregator"


@pytest.mark.integration
def test_fluentserver_rejects_a_ping_with_the_wrong_key() -> None:
    helo = Helo(nonce=NONCE, auth=b"", keepalive=True)
    wrong = Credentials(self_hostname="pod", shared_key=Secret("nope"))
    ping, _ = build_ping(helo, wrong, "srv")
    result = node(
        f"""
        try {{
          p.checkPing({json.dumps(ping)}, 'aggregator',
                      {{nonce: Buffer.from('{NONCE.hex()}', 'hex'), key: 'k3y'}});
          console.log(JSON.stringify('accepted'));
        }} catch (e) {{ console.log(JSON.stringify(e.message)); }}
        """
    )
    assert result == "shared key mismatch"


def test_ping_layout_without_user_auth() -> None:
    helo = Helo(nonce=NONCE, auth="", keepalive=True)
    ping, salt = build_ping(helo, CREDS, "srv", salt="s")
    assert ping == [
        "PING",
        "payments-pod",
        "s",
        shared_key_digest("s", "payments-pod", NONCE, "k3y"),
        "",
        "",
    ]
    assert salt == "s"


def test_server_asking_for_a_password_we_lack_is_a_clear_error() -> None:
    helo = Helo(nonce=NONCE, auth=AUTH, keepalive=True)
    with pytest.raises(HandshakeError, match="requires a username and password"):
        build_ping(helo, Credentials(self_hostname="pod", shared_key=Secret("k")), "srv")


def pong_for(server_hostname: str, key: str, salt: str = "s", ok: bool = True) -> list[object]:
    return ["PONG", ok, "" if ok else "shared key mismatch", server_hostname,
            shared_key_digest(salt, server_hostname, NONCE, key)]  # fmt: skip


HELO = Helo(nonce=NONCE, auth="", keepalive=True)


def test_pong_with_the_right_digest_is_accepted() -> None:
    assert check_pong(pong_for("agg", "k3y"), HELO, CREDS, "s", "srv") == "agg"


@pytest.mark.parametrize(
    ("pong", "message"),
    [
        (pong_for("agg", "other-key"), "digest does not match"),
        (pong_for("agg", "k3y", salt="other-salt"), "digest does not match"),
        (pong_for("agg", "k3y", ok=False), "refused the handshake: shared key mismatch"),
        (pong_for("payments-pod", "k3y"), "self_hostname"),
        (["HELO", {}], "expected PONG"),
    ],
)
def test_bad_pongs_are_refused_without_showing_the_key(pong: list[object], message: str) -> None:
    with pytest.raises(HandshakeError, match=message) as err:
        check_pong(pong, HELO, CREDS, "s", "srv:24224")
    text = str(err.value)
    assert "srv:24224" in text
    assert "k3y" not in text, "the key leaked into an error"


def test_parse_helo_accepts_bytes_or_str_nonce() -> None:
    assert (
        parse_helo(["HELO", {"nonce": NONCE, "auth": AUTH, "keepalive": True}], "s").nonce == NONCE
    )
    helo = parse_helo(["HELO", {"nonce": "abc"}], "s")
    assert (helo.nonce, helo.auth, helo.keepalive) == ("abc", "", True)
    with pytest.raises(HandshakeError, match="without a nonce"):
        parse_helo(["HELO", {}], "s")


def test_secret_never_prints() -> None:
    creds = Credentials(self_hostname="h", shared_key=Secret("topsecret"))
    assert "topsecret" not in repr(creds)
    assert "topsecret" not in str(creds.shared_key)
    assert creds.shared_key.reveal() == "topsecret"


def test_credentials_from_file_env_and_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    monkeypatch.setenv("FWD_PW", "from-env")
    creds = load_credentials(
        SecurityConfig(
            self_hostname="me", shared_key_file=str(key_file), username="u", password_env="FWD_PW"
        )
    )
    assert creds.shared_key.reveal() == "from-file", "the trailing newline is not part of the key"
    assert creds.password is not None and creds.password.reveal() == "from-env"
    assert load_credentials(SecurityConfig(shared_key="inline")).self_hostname  # pod hostname


def test_missing_secret_sources_name_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(HandshakeError, match="NOPE_KEY is not set"):
        load_credentials(SecurityConfig(shared_key_env="NOPE_KEY"))
    missing = tmp_path / "absent"
    with pytest.raises(HandshakeError, match=f"cannot read {missing}"):
        load_credentials(SecurityConfig(shared_key_file=str(missing)))
