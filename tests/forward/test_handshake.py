"""Handshake digests, checked against the formula and against FluentServer's own code."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import msgpack  # type: ignore[import-untyped]
import pytest

from collector.forward.config import SecurityConfig
from collector.forward.handshake import (
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
from tools.receiver import REPO

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
    assert check_pong(raw(pong), helo, CREDS, salt, "srv") == b"aggregator"


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
    helo = Helo(nonce=NONCE, auth=b"", keepalive=True)
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


def test_an_auth_salt_without_our_username_sends_empty_user_fields() -> None:
    """Fluentd and Fluent Bit send an auth salt whenever security is on, user auth or not:
    the salt alone must not stop a client that has no user (the server refuses if it
    needs one, and says so in its PONG)."""
    helo = Helo(nonce=NONCE, auth=AUTH, keepalive=True)
    ping, _ = build_ping(helo, Credentials(self_hostname="pod", shared_key=Secret("k")), "srv")
    assert ping[4:] == ["", ""]


def pong_for(server_hostname: str, key: str, salt: str = "s", ok: bool = True) -> list[object]:
    return ["PONG", ok, "" if ok else "shared key mismatch", server_hostname,
            shared_key_digest(salt, server_hostname, NONCE, key)]  # fmt: skip


HELO = Helo(nonce=NONCE, auth=b"", keepalive=True)


def raw(message: object) -> object:
    """`message` as the client reads it off the wire (msgpack, strings as bytes)."""
    return msgpack.unpackb(msgpack.packb(message, use_bin_type=True), raw=True)


def test_pong_with_the_right_digest_is_accepted() -> None:
    assert check_pong(raw(pong_for("agg", "k3y")), HELO, CREDS, "s", "srv") == b"agg"


def test_a_non_utf8_server_hostname_is_hashed_as_its_bytes() -> None:
    hostname = b"\xc1agg\xff"
    pong = ["PONG", True, "", hostname, shared_key_digest("s", hostname, NONCE, "k3y")]
    # Packed as msgpack str, the way a C receiver packs whatever bytes it has.
    wire = msgpack.unpackb(msgpack.packb(pong, use_bin_type=False), raw=True)
    assert check_pong(wire, HELO, CREDS, "s", "srv") == hostname


@pytest.mark.parametrize(
    ("pong", "message"),
    [
        (pong_for("agg", "other-key"), "digest does not match"),
        (pong_for("agg", "k3y", salt="other-salt"), "digest does not match"),
        (pong_for("agg", "k3y", ok=False), "refused the handshake: shared key mismatch"),
        (pong_for("payments-pod", "k3y"), "self_hostname"),
        (["HELO", {}], "expected PONG"),
        (["PONG", True, "", 7, "digest"], "malformed PONG"),
        (["PONG", False, b"\xc1\xff" * 3, "", ""], "refused the handshake: \\(6 bytes"),
    ],
)
def test_bad_pongs_are_refused_without_showing_the_key(pong: list[object], message: str) -> None:
    with pytest.raises(HandshakeError, match=message) as err:
        check_pong(raw(pong), HELO, CREDS, "s", "srv:24224")
    text = str(err.value)
    assert "srv:24224" in text
    assert "k3y" not in text, "the key leaked into an error"


def helo_bytes(nonce: bytes, auth: bytes, *, as_bin: bool, keepalive: bool | None) -> bytes:
    """A HELO as a receiver writes it: Fluent Bit packs the random nonce and salt as
    msgpack `str` (use_bin_type=False) and sends no keepalive; Fluentd packs them as `bin`
    and sends keepalive."""
    options: dict[str, object] = {"nonce": nonce, "auth": auth}
    if keepalive is not None:
        options["keepalive"] = keepalive
    return bytes(msgpack.packb(["HELO", options], use_bin_type=as_bin))


@pytest.mark.parametrize(
    ("as_bin", "keepalive"),
    [(False, None), (True, True), (True, False)],
    ids=["fluent-bit", "fluentd", "fluentd-deny-keepalive"],
)
def test_parse_helo_reads_nonce_and_salt_as_bytes_however_packed(
    as_bin: bool, keepalive: bool | None
) -> None:
    nonce = b"\xc1" + NONCE[1:]  # 0xc1 is never valid UTF-8 (the byte of issue 17)
    wire = helo_bytes(nonce, AUTH, as_bin=as_bin, keepalive=keepalive)
    helo = parse_helo(msgpack.unpackb(wire, raw=True), "s")
    assert (helo.nonce, helo.auth, helo.keepalive) == (nonce, AUTH, keepalive is not False)


def test_parse_helo_refuses_what_is_not_a_helo_as_a_protocol_error() -> None:
    for message in (["HELO", {}], ["HELO", {b"nonce": 5}], ["HELLO", {}], {b"ack": b"x"}, None):
        with pytest.raises(HandshakeError) as err:
            parse_helo(message, "s")
        assert err.value.reason == "protocol"
    helo = parse_helo(["HELO", {"nonce": "abc"}], "s")  # already decoded: its UTF-8 bytes
    assert (helo.nonce, helo.auth, helo.keepalive) == (b"abc", b"", True)


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
