"""The Forward shared-key handshake: HELO → PING → PONG, and where its secrets come from.

Secrets are wrapped in `Secret` so that no repr, log line or exception can show them; every
error names the server or the source (a file path, an env var name), never a value.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import socket
from typing import Any

import msgspec

from collector.forward.config import SecurityConfig


class Secret:
    """A secret string that prints as `****`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(****)"

    __str__ = __repr__


class HandshakeError(Exception):
    """The handshake failed; the message is safe to log (no secret, no peer bytes in it).

    `reason` is the metric label: `auth` when the server refused us or failed to prove it
    knows the key, `protocol` when what it sent is not a handshake message at all.
    """

    def __init__(self, message: str, reason: str = "auth") -> None:
        super().__init__(message)
        self.reason = reason


class Credentials(msgspec.Struct, frozen=True):
    self_hostname: str
    shared_key: Secret
    username: str = ""
    password: Secret | None = None


def _read_secret(inline: str | None, path: str | None, env: str | None, what: str) -> Secret:
    if inline is not None:
        return Secret(inline)
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                # A mounted Secret or `echo > file` ends with a newline that is not the key.
                return Secret(f.read().rstrip("\r\n"))
        except OSError as e:
            raise HandshakeError(f"{what}: cannot read {path}: {e.strerror}") from None
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise HandshakeError(f"{what}: environment variable {env} is not set")
        return Secret(value)
    raise HandshakeError(f"{what}: no source configured")


def load_credentials(cfg: SecurityConfig) -> Credentials:
    """Read the secrets now (called on every connect, so a rotated Secret file is picked up)."""
    key = _read_secret(cfg.shared_key, cfg.shared_key_file, cfg.shared_key_env, "shared_key")
    password = None
    if cfg.username is not None:
        password = _read_secret(cfg.password, cfg.password_file, cfg.password_env, "password")
    return Credentials(
        self_hostname=cfg.self_hostname or socket.gethostname(),
        shared_key=key,
        username=cfg.username or "",
        password=password,
    )


def _b(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def shared_key_digest(
    salt: str | bytes, hostname: str | bytes, nonce: str | bytes, key: str
) -> str:
    """sha512_hex(salt + hostname + nonce + shared_key), for PING (client hostname) and
    PONG (server hostname). The peer's values are hashed as the bytes it sent: Fluent Bit's
    nonce is 16 random bytes packed as `str`, Fluentd's the same packed as `bin`."""
    h = hashlib.sha512()
    for part in (_b(salt), _b(hostname), _b(nonce), _b(key)):
        h.update(part)
    return h.hexdigest()


def password_digest(auth_salt: str | bytes, username: str, password: str) -> str:
    """sha512_hex(auth_salt + username + password)."""
    return hashlib.sha512(_b(auth_salt) + _b(username) + _b(password)).hexdigest()


class Helo(msgspec.Struct, frozen=True):
    """The server's HELO options, as bytes (the spec's nonce and auth salt are binary)."""

    nonce: bytes
    auth: bytes
    keepalive: bool


def _field(value: object) -> bytes | None:
    """A peer's string as bytes, whether it packed it as `str` or `bin` (replies are read
    with raw=True, so both arrive as bytes); None for any other type."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):  # a caller that decoded the message itself
        return value.encode("utf-8", "surrogateescape")
    return None


def _is_message(message: Any, kind: bytes, size: int) -> bool:
    return isinstance(message, list | tuple) and len(message) == size and _field(message[0]) == kind


def parse_helo(message: Any, server: str) -> Helo:
    """Read `["HELO", {nonce, auth, keepalive}]`; keys and values may be `str` or `bin`."""
    if not _is_message(message, b"HELO", 2) or not isinstance(message[1], dict):
        raise HandshakeError(f"{server}: expected HELO, got something else", reason="protocol")
    options = {_field(k): v for k, v in message[1].items()}
    nonce = _field(options.get(b"nonce"))
    if not nonce:
        raise HandshakeError(f"{server}: HELO without a nonce", reason="protocol")
    keepalive = options.get(b"keepalive", True)
    return Helo(
        nonce=nonce,
        auth=_field(options.get(b"auth", b"")) or b"",
        keepalive=keepalive if isinstance(keepalive, bool) else True,
    )


def build_ping(
    helo: Helo, creds: Credentials, server: str, salt: str | None = None
) -> tuple[list[str], str]:
    """The PING message and the salt it used (needed to check the PONG).

    The user fields are filled when the server sent an auth salt and we have a user.
    Fluentd and Fluent Bit send a salt whenever `<security>` is on, user auth or not, so a
    salt alone does not mean the server wants a password: without a user we send empty
    fields, and a server that needs one refuses in its PONG, with its reason.
    """
    salt = salt if salt is not None else secrets.token_hex(16)
    key = creds.shared_key.reveal()
    username = ""
    pw_digest = ""
    if helo.auth and creds.username and creds.password is not None:
        username = creds.username
        pw_digest = password_digest(helo.auth, username, creds.password.reveal())
    digest = shared_key_digest(salt, creds.self_hostname, helo.nonce, key)
    return ["PING", creds.self_hostname, salt, digest, username, pw_digest], salt


def check_pong(message: Any, helo: Helo, creds: Credentials, salt: str, server: str) -> bytes:
    """Raise unless the PONG accepts us and proves the server knows the shared key.

    Returns the server's hostname as the bytes it sent (any bytes: only the digest
    over them matters, and they are never logged).
    """
    if not _is_message(message, b"PONG", 5):
        raise HandshakeError(f"{server}: expected PONG, got something else", reason="protocol")
    _, ok, reason, hostname_field, digest_field = message
    if ok is not True:
        raise HandshakeError(f"{server}: the server refused the handshake: {_reason(reason)}")
    server_hostname = _field(hostname_field)
    digest = _field(digest_field)
    if server_hostname is None or digest is None:
        raise HandshakeError(f"{server}: malformed PONG", reason="protocol")
    if server_hostname == creds.self_hostname.encode("utf-8"):
        raise HandshakeError(
            f"{server}: the server has our self_hostname ({creds.self_hostname}); "
            "set a distinct one"
        )
    expected = shared_key_digest(salt, server_hostname, helo.nonce, creds.shared_key.reveal())
    if not hmac.compare_digest(expected.encode("ascii"), digest):
        raise HandshakeError(f"{server}: the server's shared-key digest does not match")
    return server_hostname


_REASON_MAX = 200


def _reason(value: object) -> str:
    """The server's refusal reason, printable: it is logged, so anything that is not plain
    ASCII text (a peer sending bytes where words belong) is shown as a length only."""
    raw = _field(value)
    if raw is None:
        return f"(a {type(value).__name__}, not a reason)"
    if not raw:
        return "(no reason given)"
    if len(raw) > _REASON_MAX or not all(0x20 <= b < 0x7F for b in raw):
        return f"({len(raw)} bytes of non-text reason)"
    return raw.decode("ascii")
