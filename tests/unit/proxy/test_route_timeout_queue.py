"""The route timeout also bounds the wait for a connection, and charges no host for it.

Envoy arms the route's global timer in ``Filter::onRequestComplete`` before the pool is
asked for a connection; the per-try timer starts in ``UpstreamRequest::onPoolReady``
(envoyproxy/envoy ``source/common/router/router.cc`` and ``upstream_request.cc``, commit
001b1c0cd4cb18d9a3658d5453c1e534b3ff864e). When the global timer fires,
``Filter::onResponseTimeout`` charges outlier detection only through an upstream request's
host, which a still-pending request does not have yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from chaoskit.mesh.attempt import AttemptResult, HashContext
from chaoskit.mesh.config import Cluster, Compat, Endpoint, OutlierSpec, Thresholds
from chaoskit.mesh.http.message import Headers, Request
from chaoskit.mesh.stats import StatsStore
from chaoskit.mesh.upstream import ClusterRuntime

NAME = "outbound|8000||slow.default.svc.cluster.local"


@contextlib.asynccontextmanager
async def _silent_server() -> AsyncIterator[tuple[int, list[bytes]]]:
    """Accepts connections, records what arrives, never answers."""
    received: list[bytes] = []
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                received.append(data)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], received
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.05)


async def _three_queued_requests() -> tuple[list[AttemptResult], StatsStore, ClusterRuntime, int]:
    store = StatsStore()
    async with _silent_server() as (port, received):
        config = Cluster(
            name=NAME,
            service="slow.default.svc.cluster.local",
            port=8000,
            endpoints=(Endpoint("127.0.0.1", port, "slow-0"),),
            thresholds=Thresholds(max_connections=1),
            outlier=OutlierSpec(consecutive_5xx=2, max_ejection_percent=100),
        )
        runtime = ClusterRuntime(config, store, random.Random(1), Compat())

        async def one() -> AttemptResult:
            request = Request("GET", "/delay/5", Headers([("host", "slow:8000")]))
            return await runtime.attempt(
                request,
                timeout_s=None,
                exclude=frozenset(),
                hash_context=HashContext(),
                host_selection_attempts=1,
                route_timeout_s=0.3,
            )

        results = await asyncio.gather(one(), one(), one())
        requests_seen = b"".join(received).count(b"GET /delay/5")
        runtime.close()
    return results, store, runtime, requests_seen


def test_requests_queued_behind_max_connections_time_out_without_reaching_a_host() -> None:
    results, store, runtime, requests_seen = asyncio.run(_three_queued_requests())
    assert [r.failure for r in results] == ["route_timeout"] * 3
    # Only the request that had the connection was sent and names a host.
    assert sum(1 for r in results if r.host) == 1
    assert requests_seen == 1
    assert store.get(f"cluster.{NAME}.upstream_rq_total") == 1
    assert store.get(f"cluster.{NAME}.upstream_rq_cancelled") == 2
    # One local-origin timeout reached outlier detection, not three: no ejection at 2.
    assert runtime.outlier is not None
    state = runtime.outlier.host_state(next(iter(runtime.hosts)))
    assert state is not None
    assert state.consecutive_5xx == 1
    assert not runtime.outlier.ejected_hosts()
