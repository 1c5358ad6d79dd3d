"""Config of the Forward output (`forward:`)."""

from __future__ import annotations

from typing import Literal

import msgspec

from collector.units import ByteSize, Seconds


class ServerConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    host: str
    port: int = 24224
    weight: int = 1
    standby: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError("port: must be between 1 and 65535")
        if self.weight < 1:
            raise ValueError("weight: must be at least 1")


class TLSConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    enabled: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    verify: bool = True


class SecurityConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The Forward shared-key handshake; secrets come inline, from a file or from ${ENV}."""

    self_hostname: str | None = None  # default: the pod's hostname
    shared_key: str | None = None
    shared_key_file: str | None = None
    username: str | None = None
    password: str | None = None
    password_file: str | None = None


class ForwardConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    servers: list[ServerConfig] = []
    require_ack: bool = True
    compress: Literal["none", "gzip"] = "none"
    chunk_max_bytes: ByteSize = ByteSize(1024 * 1024)
    chunk_max_records: int = 10000
    flush_interval: Seconds = Seconds(1.0)
    max_chunks_in_flight: int = 8
    connect_timeout: Seconds = Seconds(5.0)
    ack_timeout: Seconds = Seconds(30.0)
    retry_initial: Seconds = Seconds(0.5)
    retry_max: Seconds = Seconds(30.0)
    # 0 = retry forever (the files are the buffer); >0 drops a chunk after that many tries.
    retry_limit: int = 0
    resolve_interval: Seconds = Seconds(30.0)
    heartbeat_interval: Seconds = Seconds(5.0)
    tls: TLSConfig = msgspec.field(default_factory=TLSConfig)
    security: SecurityConfig | None = None

    def __post_init__(self) -> None:
        if not self.servers:
            raise ValueError("servers: at least one server is required")
        if self.max_chunks_in_flight < 1:
            raise ValueError("max_chunks_in_flight: must be at least 1")
