"""Server pool policies: backoff schedule, weighted choice, standby, names."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from collector.forward.config import ServerConfig
from collector.forward.servers import Endpoint, Pool, backoff_delay, endpoint_name


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    assert backoff_delay(0, 0.5, 30, rng) == 0
    for failures, step in [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (100, 30.0)]:
        delays = [backoff_delay(failures, 0.5, 30, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays), failures
        assert len(set(delays)) > 1, "jittered"


class FakeConn:
    closing = False
    spent = False


def endpoint(
    port: int, weight: int = 1, standby: bool = False, up: bool = True
) -> Endpoint[object]:
    ep: Endpoint[object] = Endpoint(
        ServerConfig(host="10.0.0.1", port=port, weight=weight, standby=standby), "10.0.0.1", None
    )
    if up:
        ep.state = "up"
        ep.conn = FakeConn()  # type: ignore[assignment]
    else:
        ep.state = "down"
    return ep


def pool(*eps: Endpoint[object]) -> Pool[object]:
    p: Pool[object] = Pool()
    for i, ep in enumerate(eps):
        p.endpoints[(i, ep.address)] = ep
    return p


def test_smooth_weighted_round_robin_is_exact_and_interleaved() -> None:
    a, b = endpoint(1, weight=3), endpoint(2, weight=1)
    p = pool(a, b)
    picks = [p.pick() for _ in range(8)]
    assert Counter(e.port for e in picks if e) == {1: 6, 2: 2}
    assert [e.port for e in picks[:4] if e] != [1, 1, 1, 2], "spread, not bursts"


def test_down_servers_are_skipped_and_standby_only_without_primaries() -> None:
    a, b, s = endpoint(1), endpoint(2, up=False), endpoint(3, standby=True)
    p = pool(a, b, s)
    assert {p.pick().port for _ in range(4)} == {1}  # type: ignore[union-attr]
    assert not p.standby_wanted()
    a.state = "down"
    a.conn = None
    assert p.standby_wanted()
    assert p.pick() is s
    s.state = "down"
    assert p.pick() is None


def test_standby_not_wanted_while_primaries_are_still_connecting() -> None:
    a = endpoint(1, up=False)
    a.state = "connecting"
    assert not pool(a, endpoint(2, standby=True, up=False)).standby_wanted()


@pytest.mark.parametrize(
    ("host", "address", "name"),
    [
        ("10.1.2.3", "10.1.2.3", "10.1.2.3:24224"),
        ("fluentd.logging.svc", "10.1.2.3", "fluentd.logging.svc/10.1.2.3:24224"),
        ("::1", "::1", "[::1]:24224"),
        ("fluentd", "fd00::5", "fluentd/[fd00::5]:24224"),
    ],
)
def test_endpoint_names(host: str, address: str, name: str) -> None:
    assert endpoint_name(host, address, 24224) == name
