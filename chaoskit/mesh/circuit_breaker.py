"""Envoy's circuit breakers (per-cluster ResourceManager) and the HTTP/1 pool's decisions.

Sources: Envoy ``source/common/upstream/resource_manager_impl.h`` (limits, retry budget,
``circuit_breakers.<priority>.*`` gauges), ``source/common/conn_pool/conn_pool_base.cc``
(``newStreamImpl``, ``tryCreateNewConnection``, ``attachStreamToClient``,
``onUpstreamReady``, ``purgePendingStreams``, ``onPendingStreamCancel``), ``router.cc``
(an overflow is a 503 with flag UO and ``x-envoy-overloaded: true``, never retried, never
charged to a host) and the circuit-breaking docs.

The pool model is the decision logic only: it names connections by integer ids and tells
its driver what to do (``Connect``, ``Close``) and what happened to requests (``Attach``,
``Fail``). One model per upstream host; the ResourceManager is shared by all hosts of the
cluster (limits are per cluster per client proxy). Envoy also keeps one pool per worker
thread while sharing the limits; the model is one worker.

Istio's circuit-breaking task (httpbin, ``maxConnections: 1``, ``http1MaxPendingRequests:
1``, ``maxRequestsPerConnection: 1``): every request needs a fresh connection, so each one
is pending until its connection is up, and only one may be pending at a time. A request
arriving while another waits (for a connection being opened, or for the only connection
to free up) overflows: 503 UO, ``upstream_rq_pending_overflow`` + 1. Hence every request
counts in exactly one of ``upstream_rq_pending_total`` and ``upstream_rq_pending_overflow``
(the docs' run: 29 + 21), and with fortio ``-c 1`` nothing overflows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Literal, Protocol

from chaoskit.mesh.config import Thresholds

ResourceKind = Literal["connections", "pending_requests", "requests", "retries"]
FailReason = Literal["overflow", "connection_failure", "connection_termination"]

# What the client sees on a breaker rejection (router.cc onUpstreamReset with Overflow).
OVERFLOW_STATUS = 503
OVERFLOW_FLAG = "UO"
OVERFLOW_HEADERS = (("x-envoy-overloaded", "true"),)
OVERFLOW_BODY = "upstream connect error or disconnect/reset before headers. reset reason: overflow"

_PREFIX = "circuit_breakers.default."
# ResourceManagerImpl gauges: <kind>_open and, with track_remaining (Istio <= 1.28 sets it),
# remaining_*.
_GAUGES: dict[ResourceKind, tuple[str, str]] = {
    "connections": ("cx_open", "remaining_cx"),
    "pending_requests": ("rq_pending_open", "remaining_pending"),
    "requests": ("rq_open", "remaining_rq"),
    "retries": ("rq_retry_open", "remaining_retries"),
}
# Who counts a refusal: the pool (cx, pending, and max_requests, which Envoy also reports as a
# pending overflow) and the retry state (retries).
OVERFLOW_STATS: dict[ResourceKind, str] = {
    "connections": "upstream_cx_overflow",
    "pending_requests": "upstream_rq_pending_overflow",
    "requests": "upstream_rq_pending_overflow",
    "retries": "upstream_rq_retry_overflow",
}


class StatSink(Protocol):
    """Where counters and gauges go (``chaoskit.mesh.stats.ClusterStats`` fits)."""

    def inc(self, stat: str, amount: int = 1) -> None: ...

    def gauge(self, stat: str, value: int) -> None: ...


class Resource:
    """Envoy's ``ManagedResourceImpl``: a count against a limit, with its two gauges."""

    __slots__ = ("_limit", "_manager", "count", "kind")

    def __init__(self, manager: ResourceManager, kind: ResourceKind, limit: Callable[[], int]):
        self._manager = manager
        self._limit = limit
        self.kind = kind
        self.count = 0

    def max(self) -> int:
        return self._limit()

    def can_create(self) -> bool:
        return self.count < self.max()

    @property
    def remaining(self) -> int:
        return max(0, self.max() - self.count)

    def inc(self) -> None:
        self.count += 1
        self._manager._update_gauges(self)

    def dec(self) -> None:
        if self.count <= 0:
            raise RuntimeError(f"{self.kind} released more often than acquired")
        self.count -= 1
        self._manager._update_gauges(self)


class ResourceManager:
    """One cluster's circuit breakers (default priority) in one client proxy."""

    def __init__(self, thresholds: Thresholds, *, stats: StatSink | None = None) -> None:
        self.thresholds = thresholds
        self.stats: dict[str, int] = {}
        self._sink = stats
        self.connections = Resource(self, "connections", lambda: thresholds.max_connections)
        self.pending_requests = Resource(
            self, "pending_requests", lambda: thresholds.max_pending_requests
        )
        self.requests = Resource(self, "requests", lambda: thresholds.max_requests)
        self.retries = Resource(self, "retries", self._max_retries)
        for resource in (self.connections, self.pending_requests, self.requests, self.retries):
            self._update_gauges(resource)

    def _max_retries(self) -> int:
        # RetryBudgetImpl::max: a share of active + pending requests, never below the floor;
        # a budget replaces max_retries.
        percent = self.thresholds.retry_budget_percent
        if percent is None:
            return self.thresholds.max_retries
        active = self.requests.count + self.pending_requests.count
        return max(int(percent / 100.0 * active), self.thresholds.retry_budget_min_concurrency)

    def resource(self, kind: ResourceKind) -> Resource:
        resource: Resource = getattr(self, kind)
        return resource

    def try_acquire(self, kind: ResourceKind) -> bool:
        """Take one unit if the limit allows; otherwise count Envoy's overflow stat."""
        resource = self.resource(kind)
        if not resource.can_create():
            self.inc(OVERFLOW_STATS[kind])
            return False
        resource.inc()
        return True

    def release(self, kind: ResourceKind) -> None:
        self.resource(kind).dec()

    # --- stats -----------------------------------------------------------------------------

    def inc(self, stat: str, amount: int = 1) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + amount
        if self._sink is not None:
            self._sink.inc(stat, amount)

    def gauge(self, stat: str, value: int) -> None:
        self.stats[stat] = value
        if self._sink is not None:
            self._sink.gauge(stat, value)

    def _update_gauges(self, resource: Resource) -> None:
        open_name, remaining_name = _GAUGES[resource.kind]
        self.gauge(_PREFIX + open_name, 0 if resource.can_create() else 1)
        if self.thresholds.track_remaining:
            self.gauge(_PREFIX + remaining_name, resource.remaining)


# --- the HTTP/1 connection pool's decisions --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attach:
    """The request goes out on this connection now."""

    request: Hashable
    connection: int


@dataclass(frozen=True, slots=True)
class Fail:
    """The request failed in the pool: overflow (503 UO) or a connection failure (UF/UC)."""

    request: Hashable
    reason: FailReason


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a new upstream connection with this id (report ``connected``/``connect_failed``)."""

    connection: int


@dataclass(frozen=True, slots=True)
class Close:
    """Close this connection."""

    connection: int


Effect = Attach | Fail | Connect | Close
ConnState = Literal["connecting", "ready", "busy", "draining"]


@dataclass(slots=True)
class _Conn:
    id: int
    state: ConnState = "connecting"
    remaining_streams: int | None = None  # None: no max_requests_per_connection
    request: Hashable | None = None


class Http1PoolModel:
    """Envoy's HTTP/1.1 pool for one host (``ConnPoolImplBase`` with one stream per connection).

    * A request takes an idle connection if there is one (the most recently freed).
    * Otherwise it is *pending* (limited by ``max_pending_requests``, else 503 overflow),
      even when a connection is being opened just for it.
    * A connection is opened while there are more pending requests than connections being
      opened. At ``max_connections`` none is (``upstream_cx_overflow`` + 1) and the request
      waits, unless this host has no connection at all (Envoy then opens one anyway).
    * ``max_requests`` is checked when a request is put on a connection (overflow counted as
      ``upstream_rq_pending_overflow``); ``max_requests_per_connection`` drains a
      connection after N requests and closes it when the last one finishes.
    * A failed connect fails every pending request of the host (``purgePendingStreams``).
    """

    def __init__(
        self, resources: ResourceManager, *, max_requests_per_connection: int | None = None
    ) -> None:
        self.resources = resources
        limit = (
            resources.thresholds.max_requests_per_connection
            if max_requests_per_connection is None
            else max_requests_per_connection
        )
        self.max_requests_per_connection = limit or None
        self._conns: dict[int, _Conn] = {}
        self._pending: deque[Hashable] = deque()
        self._ready: list[int] = []  # idle connections, most recently freed last
        self._request_conn: dict[Hashable, int] = {}
        self._next_id = 1

    # --- views -------------------------------------------------------------------------------

    @property
    def pending(self) -> tuple[Hashable, ...]:
        return tuple(self._pending)

    def connections(self, state: ConnState | None = None) -> list[int]:
        return [c.id for c in self._conns.values() if state is None or c.state == state]

    def connection_of(self, request: Hashable) -> int | None:
        return self._request_conn.get(request)

    # --- events ------------------------------------------------------------------------------

    def new_request(self, request: Hashable) -> list[Effect]:
        """``newStreamImpl``: a request wants a connection to this host."""
        if request in self._request_conn or request in self._pending:
            raise ValueError(f"request {request!r} is already in the pool")
        if self._ready:
            return self._attach(self._conns[self._ready.pop()], request)
        if not self.resources.pending_requests.can_create():
            self.resources.inc("upstream_rq_pending_overflow")
            return [Fail(request, "overflow")]
        self._pending.append(request)
        self.resources.pending_requests.inc()
        self.resources.inc("upstream_rq_pending_total")
        self._pending_gauge()
        return self._try_create_connections()

    def connected(self, connection: int) -> list[Effect]:
        """The connection is up: it serves the oldest pending request."""
        conn = self._conn(connection, "connecting")
        conn.state = "ready"
        self._ready.append(conn.id)
        return self._on_upstream_ready()

    def connect_failed(self, connection: int) -> list[Effect]:
        """Connect error or timeout: Envoy fails every pending request of the host."""
        conn = self._conn(connection, "connecting")
        self.resources.inc("upstream_cx_connect_fail")
        self._forget(conn)
        effects: list[Effect] = []
        while self._pending:
            request = self._pending.popleft()
            self.resources.pending_requests.dec()
            self.resources.inc("upstream_rq_pending_failure_eject")
            effects.append(Fail(request, "connection_failure"))
        self._pending_gauge()
        return effects

    def request_done(self, request: Hashable, *, reusable: bool = True) -> list[Effect]:
        """The response is complete; ``reusable`` false when the connection cannot be kept."""
        conn = self._finish(request)
        if conn.state == "draining" or not reusable:
            effects: list[Effect] = [Close(conn.id)]
            self._forget(conn)
            return effects + self._try_create_connections()
        conn.state = "ready"
        self._ready.append(conn.id)
        return self._on_upstream_ready()

    def request_reset(self, request: Hashable) -> list[Effect]:
        """The router reset an in-flight request (timeout): an HTTP/1 connection is closed."""
        conn = self._finish(request)
        effects: list[Effect] = [Close(conn.id)]
        self.resources.inc("upstream_cx_destroy_local_with_active_rq")
        self._forget(conn)
        return effects + self._try_create_connections()

    def cancel(self, request: Hashable) -> list[Effect]:
        """A pending request gave up (router CancelPolicy::CloseExcess)."""
        self._pending.remove(request)
        self.resources.pending_requests.dec()
        self.resources.inc("upstream_rq_cancelled")
        self._pending_gauge()
        connecting = [c for c in self._conns.values() if c.state == "connecting"]
        if connecting and self._capacity() > len(self._pending):
            conn = connecting[-1]
            self._forget(conn)
            return [Close(conn.id)]
        return []

    def remote_close(self, connection: int) -> list[Effect]:
        """The upstream closed a connection (UC for a request in flight)."""
        conn = self._conns[connection]
        if conn.state == "connecting":
            return self.connect_failed(connection)
        effects: list[Effect] = []
        if conn.request is not None:
            request = conn.request
            self._finish(request)
            self.resources.inc("upstream_cx_destroy_remote_with_active_rq")
            effects.append(Fail(request, "connection_termination"))
        self._forget(conn)
        return effects + self._try_create_connections()

    # --- internals ----------------------------------------------------------------------------

    def _conn(self, connection: int, state: ConnState) -> _Conn:
        conn = self._conns.get(connection)
        if conn is None or conn.state != state:
            raise ValueError(f"connection {connection} is not {state}")
        return conn

    def _capacity(self) -> int:
        # connecting_and_connected_stream_capacity_: one stream per HTTP/1 connection.
        return sum(1 for c in self._conns.values() if c.state in ("connecting", "ready"))

    def _try_create_connections(self) -> list[Effect]:
        # tryCreateNewConnections: at most 3 per call, stopping at the first non-creation.
        effects: list[Effect] = []
        for _ in range(3):
            created = self._try_create_connection()
            if created is None:
                break
            effects.append(Connect(created[0]))
            if not created[1]:
                break
        return effects

    def _try_create_connection(self) -> tuple[int, bool] | None:
        if len(self._pending) <= self._capacity():
            return None  # shouldCreateNewConnection (preconnect ratio 1)
        resources = self.resources
        allowed = resources.connections.can_create()
        if not allowed:
            resources.inc("upstream_cx_overflow")
            if self._conns:
                return None
            # A host with no connection opens one anyway, or its queue would be stranded.
        conn = _Conn(self._next_id, remaining_streams=self.max_requests_per_connection)
        self._next_id += 1
        self._conns[conn.id] = conn
        resources.connections.inc()
        resources.inc("upstream_cx_total")
        resources.gauge("upstream_cx_active", resources.connections.count)
        return conn.id, allowed

    def _on_upstream_ready(self) -> list[Effect]:
        effects: list[Effect] = []
        while self._pending and self._ready:
            conn = self._conns[self._ready.pop()]
            request = self._pending.popleft()
            self.resources.pending_requests.dec()
            effects += self._attach(conn, request)
        self._pending_gauge()
        if self._pending:
            effects += self._try_create_connections()
        return effects

    def _attach(self, conn: _Conn, request: Hashable) -> list[Effect]:
        resources = self.resources
        if not resources.requests.can_create():
            resources.inc("upstream_rq_pending_overflow")
            self._ready.append(conn.id)  # the connection stays idle
            return [Fail(request, "overflow")]
        conn.request = request
        conn.state = "busy"
        if conn.remaining_streams is not None:
            conn.remaining_streams -= 1
            if conn.remaining_streams == 0:
                conn.state = "draining"
                resources.inc("upstream_cx_max_requests")
        self._request_conn[request] = conn.id
        resources.requests.inc()
        resources.inc("upstream_rq_total")
        resources.gauge("upstream_rq_active", resources.requests.count)
        return [Attach(request, conn.id)]

    def _finish(self, request: Hashable) -> _Conn:
        connection = self._request_conn.pop(request, None)
        if connection is None:
            raise ValueError(f"request {request!r} is not on a connection")
        conn = self._conns[connection]
        conn.request = None
        self.resources.requests.dec()
        self.resources.gauge("upstream_rq_active", self.resources.requests.count)
        return conn

    def _forget(self, conn: _Conn) -> None:
        del self._conns[conn.id]
        if conn.id in self._ready:
            self._ready.remove(conn.id)
        resources = self.resources
        resources.connections.dec()
        resources.inc("upstream_cx_destroy")
        resources.gauge("upstream_cx_active", resources.connections.count)

    def _pending_gauge(self) -> None:
        self.resources.gauge("upstream_rq_pending_active", self.resources.pending_requests.count)
