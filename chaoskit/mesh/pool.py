"""Envoy's connection pool for one upstream host, under cluster-wide breakers.

Each host has its own pool of connections; ``max_connections``, ``max_pending_requests``
and ``max_requests`` are cluster-wide (Envoy's ResourceManager per cluster and priority).
A request that has no ready connection is *pending*: it waits while a connection is being
opened for it or until one frees up. When the connection limit is reached the pool does
not open another (``upstream_cx_overflow``) and the request still queues as pending, if
the pending limit allows; otherwise it fails at once with overflow (503 UO).

With ``h2UpgradePolicy: UPGRADE`` the upstream is HTTP/2: Envoy's HTTP/2 pool carries every
request of a host as a stream of one connection (its max_concurrent_streams is unlimited),
so a request is pending only while that connection opens, and the limit that sheds load is
``max_requests`` (http2MaxRequests). The breakers are counted that way here; underneath,
the bytes still travel over HTTP/1.1 connections, which the breakers do not see.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from chaoskit.mesh.config import Thresholds
from chaoskit.mesh.http.client import ConnectFailure, HttpConnection
from chaoskit.mesh.stats import ClusterStats


class Overflow(Exception):
    """A circuit breaker refused the request (Envoy: 503 UO, x-envoy-overloaded)."""


@dataclass(slots=True)
class Budget:
    """The cluster-wide counts the breakers compare with their thresholds."""

    thresholds: Thresholds
    stats: ClusterStats
    connections: int = 0
    pending: int = 0
    requests: int = 0
    retries: int = 0
    # HTTP/2: requests past the max_requests check but still awaiting their transport;
    # counted against the limit so a burst cannot slip past it while connections open.
    reserved: int = 0
    gauges_set: bool = False  # whether the first change has created every gauge

    def _gauges(self) -> None:
        t, s = self.thresholds, self.stats
        s.gauge("circuit_breakers.default.cx_open", int(self.connections >= t.max_connections))
        s.gauge(
            "circuit_breakers.default.rq_pending_open", int(self.pending >= t.max_pending_requests)
        )
        s.gauge("circuit_breakers.default.rq_open", int(self.requests >= t.max_requests))
        s.gauge("circuit_breakers.default.rq_retry_open", int(self.retries >= t.max_retries))
        if t.track_remaining:
            s.gauge(
                "circuit_breakers.default.remaining_cx",
                max(0, t.max_connections - self.connections),
            )
            s.gauge(
                "circuit_breakers.default.remaining_pending",
                max(0, t.max_pending_requests - self.pending),
            )
            s.gauge("circuit_breakers.default.remaining_rq", max(0, t.max_requests - self.requests))
            s.gauge(
                "circuit_breakers.default.remaining_retries", max(0, t.max_retries - self.retries)
            )
        s.gauge("upstream_cx_active", self.connections)
        s.gauge("upstream_rq_pending_active", self.pending)
        s.gauge("upstream_rq_active", self.requests)

    def change_requests(self, delta: int) -> None:
        """``change(requests=delta)``, which every request makes twice, without the rest."""
        self.requests += delta
        if not self.gauges_set:
            self._gauges()
            self.gauges_set = True
            return
        self._requests_moved()

    def _requests_moved(self) -> None:
        t, s = self.thresholds, self.stats
        s.gauge("circuit_breakers.default.rq_open", int(self.requests >= t.max_requests))
        if t.track_remaining:
            s.gauge("circuit_breakers.default.remaining_rq", max(0, t.max_requests - self.requests))
        s.gauge("upstream_rq_active", self.requests)

    def change(
        self, *, connections: int = 0, pending: int = 0, requests: int = 0, retries: int = 0
    ) -> None:
        self.connections += connections
        self.pending += pending
        self.requests += requests
        self.retries += retries
        if not self.gauges_set:
            self._gauges()  # the first change creates them all
            self.gauges_set = True
            return
        # Afterwards only the gauges of the counts that moved (each request moves
        # ``requests`` twice, and rewriting all eleven gauges each time was measurable).
        t, s = self.thresholds, self.stats
        if requests:
            self._requests_moved()
        if pending:
            s.gauge(
                "circuit_breakers.default.rq_pending_open",
                int(self.pending >= t.max_pending_requests),
            )
            if t.track_remaining:
                s.gauge(
                    "circuit_breakers.default.remaining_pending",
                    max(0, t.max_pending_requests - self.pending),
                )
            s.gauge("upstream_rq_pending_active", self.pending)
        if connections:
            s.gauge("circuit_breakers.default.cx_open", int(self.connections >= t.max_connections))
            if t.track_remaining:
                s.gauge(
                    "circuit_breakers.default.remaining_cx",
                    max(0, t.max_connections - self.connections),
                )
            s.gauge("upstream_cx_active", self.connections)
        if retries:
            s.gauge("circuit_breakers.default.rq_retry_open", int(self.retries >= t.max_retries))
            if t.track_remaining:
                s.gauge(
                    "circuit_breakers.default.remaining_retries",
                    max(0, t.max_retries - self.retries),
                )


@dataclass(slots=True)
class _Waiter:
    future: asyncio.Future[HttpConnection]


@dataclass(slots=True)
class HostPool:
    address: tuple[str, int]
    budget: Budget
    connect_timeout_s: float
    idle: list[HttpConnection] = field(default_factory=list)
    waiters: deque[_Waiter] = field(default_factory=deque)
    connecting: int = 0
    active_connections: int = 0  # open connections of this host (idle + busy)
    closed: bool = False

    async def acquire(self) -> HttpConnection:
        """A connection for one request, or Overflow / ConnectFailure."""
        budget, limits, stats = self.budget, self.budget.thresholds, self.budget.stats
        if limits.http2:
            if budget.requests + budget.reserved >= limits.max_requests:
                stats.inc("upstream_rq_pending_overflow")
                raise Overflow("max_requests")
            budget.reserved += 1
            try:
                return await self._stream()
            finally:
                budget.reserved -= 1  # the caller counts the request as it gets the stream
        conn = await self._http1_connection()
        # ConnPoolImplBase::attachStreamToClient (source/common/conn_pool/conn_pool_base.cc):
        # max_requests is checked when the request is attached to a ready connection, so a
        # request queued while the limit was reached may still go once others finish.
        if budget.requests >= limits.max_requests:
            stats.inc("upstream_rq_pending_overflow")
            self.release(conn)
            raise Overflow("max_requests")
        return conn

    async def _http1_connection(self) -> HttpConnection:
        budget, limits, stats = self.budget, self.budget.thresholds, self.budget.stats
        while self.idle:
            conn = self.idle.pop()
            if conn.is_reusable:
                return conn
            self._forget(conn)
        # No ready connection: the request is pending until it gets one.
        with self._pending():
            can_create = budget.connections < limits.max_connections
            if not can_create:
                stats.inc("upstream_cx_overflow")
            # Envoy (conn_pool_base.cc) always lets a host with no connection open one, so
            # a request queued here is never stranded by other hosts' connections.
            if can_create or self.active_connections == 0:
                return await self._connect_for_request()
            waiter = _Waiter(asyncio.get_running_loop().create_future())
            self.waiters.append(waiter)
            try:
                return await waiter.future
            finally:
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)

    @contextlib.contextmanager
    def _pending(self) -> Iterator[None]:
        """The request is pending (no ready connection) while inside; past
        max_pending_requests it overflows instead."""
        budget, stats = self.budget, self.budget.stats
        if budget.pending >= budget.thresholds.max_pending_requests:
            stats.inc("upstream_rq_pending_overflow")
            raise Overflow("max_pending_requests")
        stats.inc("upstream_rq_pending_total")
        budget.change(pending=1)
        try:
            yield
        except asyncio.CancelledError:
            # The route timeout (or the caller) gave up on the pending request
            # (ConnPoolImplBase::onPendingRequestCancel).
            stats.inc("upstream_rq_cancelled")
            raise
        finally:
            budget.change(pending=-1)

    async def _stream(self) -> HttpConnection:
        """HTTP/2: a stream on the host's one connection, opening it first if need be."""
        budget, limits, stats = self.budget, self.budget.thresholds, self.budget.stats
        if self.active_connections == 0:
            with self._pending():
                if budget.connections >= limits.max_connections:
                    stats.inc("upstream_cx_overflow")  # a host with none may still open one
                return await self._connect_for_request()
        while self.idle:
            conn = self.idle.pop()
            if conn.is_reusable:
                return conn
            conn.close()
        try:
            return await HttpConnection.open(self.address, connect_timeout_s=self.connect_timeout_s)
        except ConnectFailure:
            stats.inc("upstream_cx_connect_fail")
            raise

    async def _connect_for_request(self) -> HttpConnection:
        """Open a connection for a pending request; if the request gives up first, the
        connection still opens and joins the pool. The router cancels a pending stream with
        ``CancelPolicy::Default``, which leaves the connecting client in place."""
        self._count_connection()  # synchronously, so concurrent requests see the new count
        task = asyncio.get_running_loop().create_task(self._open())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(self._adopt)
            raise

    def _adopt(self, task: asyncio.Task[HttpConnection]) -> None:
        if task.cancelled() or task.exception() is not None:
            return  # _open already gave back its counts and served the waiters
        self.release(task.result())

    async def _connect(self) -> HttpConnection:
        self._count_connection()
        return await self._open()

    def _count_connection(self) -> None:
        self.budget.change(connections=1)
        self.active_connections += 1
        self.budget.stats.inc("upstream_cx_total")

    async def _open(self) -> HttpConnection:
        budget, stats = self.budget, self.budget.stats
        try:
            return await HttpConnection.open(self.address, connect_timeout_s=self.connect_timeout_s)
        except ConnectFailure as exc:
            self.active_connections -= 1
            budget.change(connections=-1)
            stats.inc("upstream_cx_connect_fail")
            if "timed out" in str(exc):
                stats.inc("upstream_cx_connect_timeout")
            self._serve_waiters()
            raise

    def release(self, conn: HttpConnection) -> None:
        """Give a finished connection back: to a waiter, to the idle list, or close it."""
        if self.budget.thresholds.http2:
            # The host's HTTP/2 connection stays open; the transport underneath is reused.
            if self.closed or not conn.is_reusable:
                conn.close()
            else:
                self.idle.append(conn)
            return
        limit = self.budget.thresholds.max_requests_per_connection
        if self.closed or not conn.is_reusable or (limit and conn.requests_sent >= limit):
            conn.close()
            self._forget(conn)
            self._serve_waiters()
            return
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_result(conn)
                return
        self.idle.append(conn)

    def discard(self, conn: HttpConnection) -> None:
        conn.close()
        if self.budget.thresholds.http2:
            return  # one stream failed; the host's HTTP/2 connection is not counted again
        self._forget(conn)
        self._serve_waiters()

    def _forget(self, conn: HttpConnection) -> None:
        self.active_connections -= 1
        self.budget.change(connections=-1)
        self.budget.stats.inc("upstream_cx_destroy")

    def _serve_waiters(self) -> None:
        """A connection slot freed up: open a connection for the oldest waiter."""
        while self.waiters and self.waiters[0].future.done():
            self.waiters.popleft()
        at_limit = self.budget.connections >= self.budget.thresholds.max_connections
        if not self.waiters or (at_limit and self.active_connections > 0):
            return
        waiter = self.waiters.popleft()

        async def open_for_waiter() -> None:
            try:
                conn = await self._connect()
            except ConnectFailure as exc:
                if not waiter.future.done():
                    waiter.future.set_exception(exc)
                return
            if waiter.future.done():
                self.release(conn)
            else:
                waiter.future.set_result(conn)

        task = asyncio.get_running_loop().create_task(open_for_waiter())
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    def close(self) -> None:
        self.closed = True
        if self.budget.thresholds.http2:
            for conn in self.idle:
                conn.close()
            self.idle.clear()
            if self.active_connections:
                self.active_connections = 0
                self.budget.change(connections=-1)
                self.budget.stats.inc("upstream_cx_destroy")
            return
        for conn in self.idle:
            conn.close()
            self._forget(conn)
        self.idle.clear()
        for waiter in self.waiters:
            if not waiter.future.done():
                waiter.future.set_exception(ConnectFailure("host removed"))
        self.waiters.clear()


_BACKGROUND: set[asyncio.Task[None]] = set()
