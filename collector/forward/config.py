"""Config of the Forward output (`forward:`)."""

from __future__ import annotations

from typing import Literal

import msgspec

from collector.units import ByteSize, Seconds


class ServerConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One receiver, or a pool of them when `host` resolves to several addresses (a
    headless Kubernetes Service): each address becomes a server with this weight."""

    # Receiver hostname or IP; a name resolving to several addresses (a headless Service) is several
    # servers, re-resolved every `resolve_interval`
    host: str
    # TCP port
    port: int = 24224
    # Share of chunks among ready primaries
    weight: int = 1
    # Used only while every non-standby server is down.
    standby: bool = False

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("host: must not be empty")
        if not 0 < self.port < 65536:
            raise ValueError("port: must be between 1 and 65535")
        if self.weight < 1:
            raise ValueError("weight: must be at least 1")


class TLSConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # Connect to the receivers with TLS.
    enabled: bool = False
    ca_file: str | None = None  # default: the system's trusted CAs
    cert_file: str | None = None  # client certificate (mutual TLS), with key_file
    # The client certificate's private key (mutual TLS), with cert_file.
    key_file: str | None = None
    server_name: str | None = None  # default: the server's configured host
    verify: bool = True  # false turns off CA and name checks (tests only)

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file: set both or neither")


class SecurityConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The Forward shared-key handshake; each secret comes inline (`${ENV}` interpolation
    works), from a file (a mounted Kubernetes Secret, re-read on every connect) or from the
    named environment variable."""

    self_hostname: str | None = None  # default: the pod's hostname
    # The `<security>` shared key (exactly one of shared_key, _file, _env); enables the
    # HELO/PING/PONG handshake, and the server's digest is checked.
    shared_key: str | None = None
    # The shared key read from this file (a mounted Secret).
    shared_key_file: str | None = None
    # The shared key read from this environment variable.
    shared_key_env: str | None = None
    # The user of the receiver's `user_auth` (with a password).
    username: str | None = None
    # The password of `user_auth`, inline (exactly one of password, _file, _env).
    password: str | None = None
    # The password read from this file (a mounted Secret).
    password_file: str | None = None
    # The password read from this environment variable.
    password_env: str | None = None

    def __post_init__(self) -> None:
        keys = [self.shared_key, self.shared_key_file, self.shared_key_env]
        if sum(k is not None for k in keys) != 1:
            raise ValueError(
                "shared_key: set exactly one of shared_key, shared_key_file, shared_key_env"
            )
        passwords = [self.password, self.password_file, self.password_env]
        set_passwords = sum(p is not None for p in passwords)
        if set_passwords > 1:
            raise ValueError("password: set at most one of password, password_file, password_env")
        if (self.username is None) != (set_passwords == 0):
            raise ValueError("username and password: set both or neither")


class ForwardConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    servers: list[ServerConfig] = []
    # true: at-least-once (a chunk counts as delivered when the receiver acks it);
    # false: at-most-once (delivered once written to the socket).
    require_ack: bool = True
    # `gzip` sends CompressedPackedForward.
    compress: Literal["none", "gzip"] = "none"
    compress_level: int = 1  # gzip level: 1 is ~2.4x faster than 6 for ~10 % more bytes
    # A chunk is closed at this size, at chunk_max_records, or flush_interval after its first
    # record, whichever comes first.
    chunk_max_bytes: ByteSize = ByteSize(1024 * 1024)
    # A chunk is closed at this many records (or at chunk_max_bytes, or flush_interval).
    chunk_max_records: int = 10000
    # A chunk is sent this long after its first record at the latest; a trickle of lines is
    # also read once per flush_interval (docs/decisions.md).
    flush_interval: Seconds = Seconds(1.0)
    # Chunks sent and not yet acked; reading waits beyond it
    max_chunks_in_flight: int = 8
    # TCP connect, TLS and handshake replies
    connect_timeout: Seconds = Seconds(5.0)
    # A chunk not acked this long is resent (same or another server)
    ack_timeout: Seconds = Seconds(30.0)
    # The first retry's backoff; it doubles (with jitter) up to retry_max.
    retry_initial: Seconds = Seconds(0.5)
    # The cap of the exponential backoff between retries.
    retry_max: Seconds = Seconds(30.0)
    # 0 = retry forever (the files are the buffer); >0 drops a chunk after that many sends.
    retry_limit: int = 0
    # Re-resolve server hostnames this often (0 = resolve once at start).
    resolve_interval: Seconds = Seconds(30.0)
    # TCP keepalive probe interval: a silent dead peer is detected after ~3 missed probes.
    heartbeat_interval: Seconds = Seconds(5.0)
    tls: TLSConfig = msgspec.field(default_factory=TLSConfig)
    security: SecurityConfig | None = None

    def __post_init__(self) -> None:
        if not self.servers:
            raise ValueError("servers: at least one server is required")
        if all(s.standby for s in self.servers):
            raise ValueError("servers: at least one server must not be a standby")
        if self.max_chunks_in_flight < 1:
            raise ValueError("max_chunks_in_flight: must be at least 1")
        if self.chunk_max_records < 1:
            raise ValueError("chunk_max_records: must be at least 1")
        if self.chunk_max_bytes < 1:
            raise ValueError("chunk_max_bytes: must be at least 1")
        if not 1 <= self.compress_level <= 9:
            raise ValueError("compress_level: must be between 1 and 9")
        for name in ("connect_timeout", "ack_timeout", "retry_initial", "heartbeat_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be greater than 0")
        if self.retry_max < self.retry_initial:
            raise ValueError("retry_max: must be at least retry_initial")
        if self.retry_limit < 0:
            raise ValueError("retry_limit: must be 0 (forever) or more")
