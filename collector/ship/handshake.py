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

from collector.ship.config import SecurityConfig


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
    """The handshake failed; the message is safe to log (no secret in it)."""


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


def shared_key_digest(salt: str | bytes, hostname: str, nonce: str | bytes, key: str) -> str:
    """sha512_hex(salt + hostname + nonce + shared_key), for PING (client hostname) and
    PONG (server hostname)."""
    h = hashlib.sha512()
    for part in (_b(salt), _b(hostname), _b(nonce), _b(key)):
        h.update(part)
    return h.hexdigest()


def password_digest(auth_salt: str | bytes, username: str, password: str) -> str:
    """sha512_hex(auth_salt + username + password)."""
    return hashlib.sha512(_b(auth_salt) + _b(username) + _b(password)).hexdigest()


class Helo(msgspec.Struct, frozen=True):
    nonce: str | bytes
    auth: str | bytes
    keepalive: bool


def parse_helo(message: Any, server: str) -> Helo:
    if not (isinstance(message, list | tuple) and len(message) == 2 and message[0] == "HELO"):
        raise HandshakeError(f"{server}: expected HELO, got something else")
    options = message[1]
    if not isinstance(options, dict) or not isinstance(options.get("nonce"), str | bytes):
        raise HandshakeError(f"{server}: HELO without a nonce")
    auth = options.get("auth", "")
    return Helo(
        nonce=options["nonce"],
        auth=auth if isinstance(auth, str | bytes) else "",
        keepalive=bool(options.get("keepalive", True)),
    )


def build_ping(
    helo: Helo, creds: Credentials, server: str, salt: str | None = None
) -> tuple[list[str], str]:
    """The PING message and the salt it used (needed to check the PONG)."""
    salt = salt if salt is not None else secrets.token_hex(16)
    key = creds.shared_key.reveal()
    username = ""
    pw_digest = ""
    if helo.auth:
        if creds.password is None:
            raise HandshakeError(f"{server}: the server requires a username and password")
        username = creds.username
        pw_digest = password_digest(helo.auth, username, creds.password.reveal())
    digest = shared_key_digest(salt, creds.self_hostname, helo.nonce, key)
    return ["PING", creds.self_hostname, salt, digest, username, pw_digest], salt


def check_pong(message: Any, helo: Helo, creds: Credentials, salt: str, server: str) -> str:
    """Raise unless the PONG accepts us and proves the server knows the shared key.

    Returns the server's hostname.
    """
    if not (isinstance(message, list | tuple) and len(message) == 5 and message[0] == "PONG"):
        raise HandshakeError(f"{server}: expected PONG, got something else")
    _, ok, reason, server_hostname, digest = message
    if not ok:
        raise HandshakeError(f"{server}: the server refused the handshake: {reason}")
    if not isinstance(server_hostname, str) or not isinstance(digest, str):
        raise HandshakeError(f"{server}: malformed PONG")
    if server_hostname == creds.self_hostname:
        raise HandshakeError(
            f"{server}: the server has our self_hostname ({server_hostname}); set a distinct one"
        )
    expected = shared_key_digest(salt, server_hostname, helo.nonce, creds.shared_key.reveal())
    if not hmac.compare_digest(expected, digest):
        raise HandshakeError(f"{server}: the server's shared-key digest does not match")
    return server_hostname
