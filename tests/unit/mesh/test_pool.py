"""The host pool's breaker accounting, HTTP/1.1 against HTTP/2 (h2UpgradePolicy UPGRADE).

Envoy's HTTP/1.1 pool puts one request on a connection at a time, so maxConnections and
http1MaxPendingRequests shed concurrent requests; its HTTP/2 pool carries them all as
streams of one connection per host, so only http2MaxRequests does. Source: Envoy's
circuit-breaking architecture overview
(https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from chaoskit.mesh.config import Thresholds
from chaoskit.mesh.pool import Budget, HostPool, Overflow
from chaoskit.mesh.stats import ClusterStats, StatsStore


@contextlib.asynccontextmanager
async def _server() -> AsyncIterator[tuple[str, int]]:
    """A listener that accepts connections and holds them, closing all at the end."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[:2]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.05)  # let the closed transports finish


async def _outcomes(http2: bool, concurrent: int, **limits: int) -> tuple[int, int, StatsStore]:
    """``concurrent`` requests held at once: how many got a connection, how many overflowed."""
    store = StatsStore()
    budget = Budget(Thresholds(http2=http2, **limits), ClusterStats(store, "c"))
    async with _server() as address:
        pool = HostPool(address, budget, connect_timeout_s=1.0)
        first = await pool.acquire()  # the host's connection exists, as after earlier traffic
        budget.change(requests=1)
        pool.release(first)
        budget.change(requests=-1)
        got, shed = 0, 0
        held = []

        async def one() -> None:
            nonlocal got, shed
            try:
                # As the router does: the request is counted the moment acquire returns.
                # HTTP/1.1 waiters are never served here (every connection stays busy).
                conn = await (pool.acquire() if http2 else asyncio.wait_for(pool.acquire(), 0.5))
            except (Overflow, TimeoutError):
                shed += 1
                return
            budget.change(requests=1)  # held: the request is in flight
            held.append(conn)
            got += 1

        await asyncio.gather(*(one() for _ in range(concurrent)))
        for conn in held:
            budget.change(requests=-1)
            pool.release(conn)
        pool.close()
    return got, shed, store


def test_http1_sheds_beyond_connections_plus_pending() -> None:
    got, shed, _ = asyncio.run(_outcomes(False, 10, max_connections=2, max_pending_requests=2))
    assert got == 2  # two connections, each busy with one request
    assert shed == 8  # two waited as pending (timed out here), six overflowed at once


def test_http2_multiplexes_and_only_max_requests_sheds() -> None:
    got, shed, store = asyncio.run(
        _outcomes(True, 10, max_connections=2, max_pending_requests=2, max_requests=6)
    )
    assert (got, shed) == (6, 4)
    assert store.get("cluster.c.upstream_rq_pending_overflow") == 4
    assert store.get("cluster.c.upstream_cx_total") == 1  # one HTTP/2 connection per host


@pytest.mark.parametrize("policy", ["UPGRADE", "DO_NOT_UPGRADE", None])
def test_h2_upgrade_policy_sets_the_pools_protocol(policy: str | None) -> None:
    from chaoskit.controlplane.policy import thresholds
    from chaoskit.istio.destination_rule import ConnectionPoolSettings

    http = {"http2MaxRequests": 1000} | ({"h2UpgradePolicy": policy} if policy else {})
    pool = ConnectionPoolSettings.model_validate({"http": http})
    assert thresholds(pool)[0].http2 is (policy == "UPGRADE")


def test_http1_checks_max_requests_when_the_request_attaches() -> None:
    """maxConnections 1, http2MaxRequests 1: a request arriving while another is in flight
    waits as pending and goes once the first finishes, because Envoy checks max_requests in
    ConnPoolImplBase::attachStreamToClient, not when the request arrives (envoyproxy/envoy
    source/common/conn_pool/conn_pool_base.cc)."""

    async def run() -> bool:
        store = StatsStore()
        budget = Budget(Thresholds(max_connections=1, max_requests=1), ClusterStats(store, "c"))
        async with _server() as address:
            pool = HostPool(address, budget, connect_timeout_s=1.0)
            first = await pool.acquire()
            budget.change(requests=1)
            second = asyncio.get_running_loop().create_task(pool.acquire())
            await asyncio.sleep(0.05)  # the second request is now pending
            budget.change(requests=-1)
            pool.release(first)
            conn = await asyncio.wait_for(second, 1.0)
            pool.release(conn)
            pool.close()
        return store.get("cluster.c.upstream_rq_pending_overflow") == 0

    assert asyncio.run(run())


@pytest.mark.parametrize("track_remaining", [False, True])
def test_after_any_sequence_of_changes_the_gauges_are_what_a_full_rewrite_gives(
    track_remaining: bool,
) -> None:
    """``change`` rewrites only the gauges of the counts that moved; the store must hold
    what rewriting all of them would (Envoy's breaker gauges and the active counts)."""
    limits = Thresholds(
        max_connections=2,
        max_pending_requests=1,
        max_requests=3,
        max_retries=1,
        track_remaining=track_remaining,
    )
    store, reference = StatsStore(), StatsStore()
    budget = Budget(limits, ClusterStats(store, "c"))
    steps = [
        {"pending": 1}, {"connections": 1}, {"pending": -1}, {"requests": 1}, {"requests": 1},
        {"retries": 1}, {"connections": 1, "requests": 1}, {"requests": -2}, {"retries": -1},
        {"connections": -2, "pending": 1, "requests": -1, "retries": 1}, {},
    ]  # fmt: skip
    for step in steps:
        budget.change(**step)
        full = Budget(limits, ClusterStats(reference, "c"))
        full.connections, full.pending = budget.connections, budget.pending
        full.requests, full.retries = budget.requests, budget.retries
        full._gauges()
        assert dict(store.items("Gauges")) == dict(reference.items("Gauges")), step
