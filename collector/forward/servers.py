"""The receivers we may send to: one `Endpoint` per resolved address, their health, the
backoff schedule, and which one gets the next chunk.

This module decides the two policies of the pool — when to try a failed server again
(`backoff_delay`) and where a chunk goes (`Pool.pick`) — so the client only asks.
"""

from __future__ import annotations

import ipaddress
import random
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from collector.forward.config import ServerConfig

if TYPE_CHECKING:
    import asyncio

    from collector.forward.connection import Connection

State = Literal["connecting", "up", "down"]
P = TypeVar("P")


def backoff_delay(failures: int, initial: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half the step fixed, half random, so a
    fleet of sidecars that lost the same aggregator does not reconnect in lockstep."""
    if failures <= 0:
        return 0.0
    step = min(cap, initial * float(2 ** min(failures - 1, 30)))
    return step / 2 + rng.uniform(0, step / 2)


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def endpoint_name(host: str, address: str, port: int) -> str:
    """The `server` label and log name: `host:port`, or `host/address:port` when the host
    is a name that resolved to `address` (one name may stand for several servers)."""
    addr = f"[{address}]" if ":" in address else address
    if host == address or is_ip_literal(host):
        return f"{addr}:{port}"
    return f"{host}/{addr}:{port}"


class Endpoint(Generic[P]):
    """One address of one configured server. `P` is the client's in-flight record type."""

    def __init__(self, cfg: ServerConfig, address: str, tls_name: str | None) -> None:
        self.cfg = cfg
        self.address = address
        self.port = cfg.port
        self.name = endpoint_name(cfg.host, address, cfg.port)
        self.tls_name = tls_name or cfg.host
        self.weight = cfg.weight
        self.standby = cfg.standby
        self.state: State = "connecting"
        self.conn: Connection | None = None
        self.inflight: dict[str, P] = {}
        self.failures = 0
        self.fail_reason: str | None = None  # why the current connection is being torn down
        self.current_weight = 0  # smooth weighted round robin
        self.retired = False
        self.task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """Up and able to take a chunk now (a server that refuses keepalive takes one
        chunk per connection)."""
        conn = self.conn
        return self.state == "up" and conn is not None and not conn.closing and not conn.spent

    def __repr__(self) -> str:
        return f"Endpoint({self.name}, {self.state})"


class Pool(Generic[P]):
    """Every live endpoint, keyed by (index of its ServerConfig, address)."""

    def __init__(self) -> None:
        self.endpoints: dict[tuple[int, str], Endpoint[P]] = {}

    def all(self) -> list[Endpoint[P]]:
        return list(self.endpoints.values())

    def pick(self) -> Endpoint[P] | None:
        """The ready primary next in smooth weighted round robin (nginx's algorithm: spreads
        a 3:1 pool as a,a,b,a rather than a,a,a,b); a standby only when no primary is ready."""
        ready = [e for e in self.endpoints.values() if e.ready]
        primaries = [e for e in ready if not e.standby]
        candidates = primaries or ready
        if not candidates:
            return None
        total = 0
        best = candidates[0]
        for e in candidates:
            e.current_weight += e.weight
            total += e.weight
            if e.current_weight > best.current_weight:
                best = e
        best.current_weight -= total
        return best

    def standby_wanted(self) -> bool:
        """Standbys connect only once every primary has failed (not merely while the
        primaries are still connecting at start)."""
        primaries = [e for e in self.endpoints.values() if not e.standby]
        return all(e.state == "down" for e in primaries)
