"""Circuit breakers and the HTTP/1 pool's decisions, including Istio's circuit-breaking task."""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import pytest

from chaoskit.mesh.circuit_breaker import (
    OVERFLOW_BODY,
    OVERFLOW_FLAG,
    OVERFLOW_HEADERS,
    OVERFLOW_STATUS,
    Attach,
    Close,
    Connect,
    Effect,
    Fail,
    Http1PoolModel,
    ResourceManager,
)
from chaoskit.mesh.config import Thresholds
from chaoskit.mesh.stats import ClusterStats, StatsStore

CB = "circuit_breakers.default."

# --- ResourceManager --------------------------------------------------------------------------------


def test_resource_manager_counts_overflows_under_envoys_names() -> None:
    """ResourceManagerImpl: canCreate() is count < max; the pool and router count refusals as
    upstream_cx_overflow, upstream_rq_pending_overflow (also for max_requests) and
    upstream_rq_retry_overflow."""
    rm = ResourceManager(
        Thresholds(max_connections=1, max_pending_requests=2, max_requests=1, max_retries=0)
    )
    assert rm.try_acquire("connections")
    assert not rm.try_acquire("connections")
    assert rm.try_acquire("pending_requests")
    assert rm.try_acquire("pending_requests")
    assert not rm.try_acquire("pending_requests")
    assert rm.try_acquire("requests")
    assert not rm.try_acquire("requests")
    assert not rm.try_acquire("retries")
    assert rm.stats["upstream_cx_overflow"] == 1
    assert rm.stats["upstream_rq_pending_overflow"] == 2
    assert rm.stats["upstream_rq_retry_overflow"] == 1


def test_open_and_remaining_gauges_follow_the_counts() -> None:
    """ManagedResourceImpl updates circuit_breakers.default.<x>_open and remaining_<x> on every
    inc/dec (with track_remaining, which Istio set until 1.28); the docs' task ends with
    remaining_pending 1, rq_pending_open 0."""
    store = StatsStore()
    rm = ResourceManager(
        Thresholds(max_connections=1, max_pending_requests=1, track_remaining=True),
        stats=ClusterStats(store, "outbound|8000||httpbin.default.svc.cluster.local"),
    )
    prefix = "cluster.outbound|8000||httpbin.default.svc.cluster.local." + CB
    assert store.get(prefix + "remaining_pending") == 1
    assert store.get(prefix + "rq_pending_open") == 0
    rm.try_acquire("pending_requests")
    assert store.get(prefix + "remaining_pending") == 0
    assert store.get(prefix + "rq_pending_open") == 1
    rm.release("pending_requests")
    assert store.get(prefix + "remaining_pending") == 1
    assert store.get(prefix + "rq_pending_open") == 0
    assert store.get(prefix + "remaining_rq") == 2**32 - 1  # Istio's "unlimited"
    with pytest.raises(RuntimeError):
        rm.release("pending_requests")


def test_without_track_remaining_only_the_open_gauges_exist() -> None:
    """Istio >= 1.29 leaves track_remaining unset (DISABLE_TRACK_REMAINING_CB_METRICS): Envoy
    creates no remaining_* gauge, while <x>_open still follows the counts."""
    store = StatsStore()
    rm = ResourceManager(
        Thresholds(max_pending_requests=1),
        stats=ClusterStats(store, "outbound|8000||httpbin.default.svc.cluster.local"),
    )
    rm.try_acquire("pending_requests")
    names = {name for name, _ in store.items()}
    prefix = "cluster.outbound|8000||httpbin.default.svc.cluster.local." + CB
    assert prefix + "rq_pending_open" in names
    assert not [n for n in names if ".remaining_" in n]


def test_retry_budget_replaces_max_retries() -> None:
    """RetryBudgetImpl::max = max(percent × (active + pending), min_retry_concurrency)."""
    rm = ResourceManager(
        Thresholds(max_retries=0, retry_budget_percent=20.0, retry_budget_min_concurrency=3)
    )
    assert rm.retries.max() == 3
    for _ in range(30):
        rm.requests.inc()
    for _ in range(10):
        rm.pending_requests.inc()
    assert rm.retries.max() == 8  # 20 % of 40
    for _ in range(8):
        assert rm.try_acquire("retries")
    assert not rm.try_acquire("retries")


def test_overflow_reply_constants() -> None:
    """router.cc onUpstreamReset(Overflow): 503, flag UO, x-envoy-overloaded: true, and the
    body "…reset reason: overflow"."""
    assert (OVERFLOW_STATUS, OVERFLOW_FLAG) == (503, "UO")
    assert dict(OVERFLOW_HEADERS) == {"x-envoy-overloaded": "true"}
    assert OVERFLOW_BODY.endswith("reset reason: overflow")


# --- the pool's decisions ----------------------------------------------------------------------------


def _pool(**limits: int) -> Http1PoolModel:
    return Http1PoolModel(ResourceManager(Thresholds(**limits)))


def test_a_request_waiting_for_a_new_connection_is_pending() -> None:
    """newStreamImpl: no ready client → newPendingStream (pending_requests.inc) before
    tryCreateNewConnections; attached in onUpstreamReady when the connection is up."""
    pool = _pool()
    assert pool.new_request("a") == [Connect(1)]
    assert list(pool.pending) == ["a"]
    assert pool.resources.pending_requests.count == 1
    assert pool.connected(1) == [Attach("a", 1)]
    assert list(pool.pending) == []
    assert pool.resources.stats["upstream_rq_pending_total"] == 1
    assert pool.resources.stats["upstream_rq_total"] == 1


def test_an_idle_connection_is_reused_without_pending() -> None:
    """newStreamImpl: a ready client takes the stream at once (keep-alive)."""
    pool = _pool()
    pool.new_request("a")
    pool.connected(1)
    assert pool.request_done("a") == []
    assert pool.new_request("b") == [Attach("b", 1)]
    assert pool.resources.stats["upstream_rq_pending_total"] == 1
    assert pool.resources.stats["upstream_cx_total"] == 1


def test_the_pending_limit_counts_requests_waiting_for_a_connection() -> None:
    """http1MaxPendingRequests: 1 — a second request while the first waits for its
    connection overflows (503 UO), even though no request is in flight yet."""
    pool = _pool(max_connections=1, max_pending_requests=1)
    pool.new_request("a")
    assert pool.new_request("b") == [Fail("b", "overflow")]
    assert pool.resources.stats["upstream_rq_pending_overflow"] == 1


def test_max_connections_alone_queues_instead_of_failing() -> None:
    """tryCreateNewConnection: at the connection limit no connection is opened
    (upstream_cx_overflow + 1) and the request waits as pending for a free one."""
    pool = _pool(max_connections=1)
    pool.new_request("a")
    pool.connected(1)
    assert pool.new_request("b") == []
    assert pool.new_request("c") == []
    assert pool.resources.stats["upstream_cx_overflow"] == 2
    assert "upstream_rq_pending_overflow" not in pool.resources.stats
    assert pool.request_done("a") == [Attach("b", 1)]  # oldest first
    assert pool.request_done("b") == [Attach("c", 1)]


def test_max_requests_per_connection_drains_and_reopens() -> None:
    """attachStreamToClient: remaining_streams_ hits 0 → Draining (upstream_cx_max_requests);
    the connection closes when its request ends, and a new one is opened for the queue."""
    pool = _pool(max_connections=1, max_requests_per_connection=1)
    pool.new_request("a")
    pool.connected(1)
    assert pool.resources.stats["upstream_cx_max_requests"] == 1
    assert pool.new_request("b") == []  # waits: the only connection is busy
    assert pool.request_done("a") == [Close(1), Connect(2)]
    assert pool.connected(2) == [Attach("b", 2)]
    assert pool.request_done("b") == [Close(2)]
    assert pool.connections() == []


def test_a_host_without_connections_opens_one_over_the_cluster_limit() -> None:
    """tryCreateNewConnection: "If we are at the connection circuit-breaker limit due to other
    upstreams having too many open connections, and this upstream has no connections,
    always create one" (still counting upstream_cx_overflow)."""
    rm = ResourceManager(Thresholds(max_connections=1))
    host1, host2 = Http1PoolModel(rm), Http1PoolModel(rm)
    host1.new_request("a")
    assert host2.new_request("b") == [Connect(1)]
    assert rm.connections.count == 2
    assert rm.stats["upstream_cx_overflow"] == 1


def test_max_requests_is_checked_when_a_request_gets_a_connection() -> None:
    """attachStreamToClient: requests().canCreate() fails → Overflow, counted as
    upstream_rq_pending_overflow; the connection stays idle."""
    rm = ResourceManager(Thresholds(max_requests=1))
    host1, host2 = Http1PoolModel(rm), Http1PoolModel(rm)
    host1.new_request("a")
    host1.connected(1)
    host2.new_request("b")
    assert host2.connected(1) == [Fail("b", "overflow")]
    assert rm.stats["upstream_rq_pending_overflow"] == 1
    assert host2.connections("ready") == [1]


def test_a_connect_failure_fails_every_pending_request() -> None:
    """purgePendingStreams on a connect failure: all pending streams of the host fail (the
    router then sees a connection failure: UF, retriable by connect-failure)."""
    pool = _pool()
    assert pool.new_request("a") == [Connect(1)]
    assert pool.new_request("b") == [Connect(2)]
    assert pool.connect_failed(1) == [
        Fail("a", "connection_failure"),
        Fail("b", "connection_failure"),
    ]
    assert pool.resources.stats["upstream_cx_connect_fail"] == 1
    assert pool.resources.stats["upstream_rq_pending_failure_eject"] == 2
    assert pool.resources.pending_requests.count == 0


def test_cancelling_a_pending_request_closes_an_excess_connection() -> None:
    """onPendingStreamCancel with CloseExcess: more connecting capacity than pending streams
    closes a connecting client."""
    pool = _pool()
    pool.new_request("a")
    pool.new_request("b")
    assert pool.cancel("b") == [Close(2)]
    assert pool.resources.stats["upstream_rq_cancelled"] == 1
    assert pool.connected(1) == [Attach("a", 1)]


def test_remote_close_fails_the_request_in_flight() -> None:
    """A connection closed under a request: the router sees a reset (UC)."""
    pool = _pool()
    pool.new_request("a")
    pool.connected(1)
    assert pool.remote_close(1) == [Fail("a", "connection_termination")]
    assert pool.resources.requests.count == 0
    assert pool.resources.connections.count == 0


def test_a_reset_request_closes_its_http1_connection() -> None:
    """A per-try timeout resets the stream; an HTTP/1 connection cannot be reused after."""
    pool = _pool(max_connections=1)
    pool.new_request("a")
    pool.connected(1)
    assert pool.new_request("b") == []
    assert pool.request_reset("a") == [Close(1), Connect(2)]
    assert pool.resources.stats["upstream_cx_destroy_local_with_active_rq"] == 1


# --- Istio's circuit-breaking task -------------------------------------------------------------------

# Latencies of the simulated run, in ms: fortio ↔ its sidecar (each way, for 200s and local
# 503s alike), a connect (with mTLS) to httpbin, httpbin answering, and fortio's connections
# starting a little apart.
HOP_MS, CONNECT_MS, SERVICE_MS, STAGGER_MS = 0.5, 0.5, 2.0, 0.3


@dataclass
class _Run:
    pool: Http1PoolModel
    queue: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    seq: itertools.count[int] = field(default_factory=itertools.count)
    now: float = 0.0
    ok: int = 0
    overflowed: int = 0

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (when, next(self.seq), action))

    def apply(self, effects: list[Effect], reply: dict[Hashable, Callable[[int], None]]) -> None:
        for effect in effects:
            if isinstance(effect, Connect):
                connect = functools.partial(self._connected, effect.connection, reply)
                self.at(self.now + CONNECT_MS, connect)
            elif isinstance(effect, Attach):
                rq = effect.request

                def done(rq: Hashable = rq) -> None:
                    self.apply(self.pool.request_done(rq), reply)
                    self.at(self.now + HOP_MS, functools.partial(reply.pop(rq), 200))

                self.at(self.now + SERVICE_MS, done)
            elif isinstance(effect, Fail):
                self.at(self.now + HOP_MS, functools.partial(reply.pop(effect.request), 503))

    def _connected(self, connection: int, reply: dict[Hashable, Callable[[int], None]]) -> None:
        self.apply(self.pool.connected(connection), reply)


def _fortio(concurrency: int, requests: int) -> _Run:
    """fortio load -c N -qps 0 -n M: N connections, each sends its share back to back."""
    # The docs' run shows remaining_pending: a release that set track_remaining (<= 1.28).
    thresholds = Thresholds(
        max_connections=1,
        max_pending_requests=1,
        max_requests_per_connection=1,
        track_remaining=True,
    )
    run = _Run(Http1PoolModel(ResourceManager(thresholds)))
    reply: dict[Hashable, Callable[[int], None]] = {}
    ids = itertools.count()
    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]

    def send(client: int, left: int) -> None:
        if left == 0:
            return
        rq = next(ids)

        def answered(status: int) -> None:
            if status == 200:
                run.ok += 1
            else:
                run.overflowed += 1
            send(client, left - 1)

        def arrive() -> None:
            reply[rq] = answered
            run.apply(run.pool.new_request(rq), reply)

        run.at(run.now + HOP_MS, arrive)

    for client, share in enumerate(shares):
        run.at(client * STAGGER_MS, functools.partial(send, client, share))
    while run.queue:
        run.now, _, action = heapq.heappop(run.queue)
        action()
    return run


def test_circuit_breaking_task_single_connection_never_overflows() -> None:
    """istio.io circuit-breaking task: `fortio curl` / one connection gets 200 every time."""
    run = _fortio(1, 20)
    assert (run.ok, run.overflowed) == (20, 0)


@pytest.mark.parametrize(
    ("concurrency", "requests", "ok", "overflowed"),
    [(2, 20, 19, 1), (3, 30, 11, 19)],
)
def test_circuit_breaking_task_overflows_grow_with_concurrency(
    concurrency: int, requests: int, ok: int, overflowed: int
) -> None:
    """istio.io circuit-breaking task (maxConnections 1, http1MaxPendingRequests 1,
    maxRequestsPerConnection 1). The docs' runs: -c 2 -n 20 → 17/3 (an older run 19/1),
    -c 3 -n 30 → 11/19 (older 19/11); the split depends on latencies, fixed here (hop 0.5 ms,
    connect 0.5 ms, httpbin 2 ms): 19/1 and 11/19. With 2 connections only the start
    collides, then the two alternate on the single connection slot; with 3, one of them
    nearly always finds another waiting. Each request is either pending or overflowed, so
    pending_total + pending_overflow = requests, and the breaker is closed again at the end
    (remaining_pending 1, rq_pending_open 0, as the docs' stats show)."""
    run = _fortio(concurrency, requests)
    assert (run.ok, run.overflowed) == (ok, overflowed)
    stats = run.pool.resources.stats
    assert stats["upstream_rq_pending_overflow"] == overflowed
    assert stats["upstream_rq_pending_total"] + stats["upstream_rq_pending_overflow"] == requests
    assert stats[CB + "remaining_pending"] == 1
    assert stats[CB + "rq_pending_open"] == 0
    assert stats["upstream_cx_total"] == ok  # one connection per request
