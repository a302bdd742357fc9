"""One Envoy cluster inside a proxy: hosts, load balancer, breakers, pools, outlier state.

State is per cluster per proxy, as in Envoy: two client pods keep separate ejections and
separate circuit-breaker counts for the same destination.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from chaoskit.mesh.attempt import AttemptResult, HashContext
from chaoskit.mesh.clock import Clock, MonotonicClock
from chaoskit.mesh.config import Cluster, Compat, Endpoint
from chaoskit.mesh.http.client import ConnectFailure, UpstreamReset
from chaoskit.mesh.http.message import Request
from chaoskit.mesh.loadbalancer import hash_key, make_balancer
from chaoskit.mesh.local_reply import connect_failure_reasons
from chaoskit.mesh.outlier import OUTLIER_COUNTERS, OutlierDetector
from chaoskit.mesh.pool import Budget, HostPool, Overflow
from chaoskit.mesh.stats import ClusterStats, StatsStore

# Counters Envoy creates with the cluster, at 0, among those chaoskit counts (envoy
# envoy/upstream/upstream.h ALL_CLUSTER_TRAFFIC_STATS: the stats struct is built when the
# cluster is). The response-code ones (upstream_rq_5xx, upstream_rq_503) are not here: Envoy
# creates them at the first such response (source/common/http/codes.cc).
CLUSTER_COUNTERS = (
    "upstream_cx_connect_fail",
    "upstream_cx_connect_timeout",
    "upstream_cx_destroy",
    "upstream_cx_destroy_local_with_active_rq",
    "upstream_cx_destroy_remote_with_active_rq",
    "upstream_cx_max_requests",
    "upstream_cx_none_healthy",
    "upstream_cx_overflow",
    "upstream_cx_total",
    "upstream_rq_cancelled",
    "upstream_rq_completed",
    "upstream_rq_pending_failure_eject",
    "upstream_rq_pending_overflow",
    "upstream_rq_pending_total",
    "upstream_rq_per_try_timeout",
    "upstream_rq_retry",
    "upstream_rq_retry_backoff_exponential",
    "upstream_rq_retry_limit_exceeded",
    "upstream_rq_retry_overflow",
    "upstream_rq_retry_success",
    "upstream_rq_timeout",
    "upstream_rq_total",
)


@dataclass(slots=True)
class HostState:
    endpoint: Endpoint
    pool: HostPool
    active_requests: int = 0
    rq_total: int = 0
    rq_error: int = 0
    rq_success: int = 0
    # "ip:port", read several times per request; an endpoint update keeps it (the hosts
    # are keyed by it, so a host whose address changes is another host).
    address: str = field(init=False)

    def __post_init__(self) -> None:
        self.address = f"{self.endpoint.address}:{self.endpoint.port}"


class ClusterRuntime:
    def __init__(
        self,
        config: Cluster,
        stats: StatsStore,
        rng: random.Random,
        compat: Compat,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._stats = ClusterStats(stats, config.name)
        self._stats.declare(CLUSTER_COUNTERS)
        self.rng = rng
        self.clock = clock or MonotonicClock()
        self.budget = Budget(config.thresholds, self._stats)
        self.balancer = make_balancer(config.lb, rng)
        self.outlier = (
            OutlierDetector(
                config.outlier,
                self.clock,
                always_eject_one_host=compat.always_eject_one_host,
                stats=self._stats,
            )
            if config.outlier is not None
            else None
        )
        if self.outlier is not None:
            self._stats.declare(OUTLIER_COUNTERS)
        self.hosts: dict[str, HostState] = {}
        self.update_endpoints(config)

    @property
    def stats(self) -> ClusterStats:
        return self._stats

    @property
    def uses_hashing(self) -> bool:
        return self.config.lb.hash_policy is not None

    # --- membership -----------------------------------------------------------------------

    def update_endpoints(self, config: Cluster) -> None:
        """EDS update: keep the state of hosts that stay, add and drop the others."""
        self.config = config
        wanted = {f"{e.address}:{e.port}": e for e in config.endpoints}
        for address in list(self.hosts):
            if address not in wanted:
                self.hosts.pop(address).pool.close()
                if self.outlier is not None:
                    self.outlier.remove_host(address)
        for address, endpoint in wanted.items():
            state = self.hosts.get(address)
            if state is None:
                pool = HostPool(
                    (endpoint.address, endpoint.port), self.budget, config.connect_timeout_s
                )
                self.hosts[address] = HostState(endpoint, pool)
                if self.outlier is not None:
                    self.outlier.add_host(address)
            else:
                state.endpoint = endpoint
        self._stats.gauge("membership_total", len(self.hosts))
        self._stats.gauge(
            "membership_healthy", sum(1 for h in self.hosts.values() if h.endpoint.healthy)
        )

    def tick(self) -> None:
        if self.outlier is not None:
            self.outlier.tick()

    def close(self) -> None:
        for host in self.hosts.values():
            host.pool.close()

    # --- host selection ---------------------------------------------------------------------

    def _eligible(self) -> list[HostState]:
        """Healthy, non-ejected hosts; with Envoy's panic threshold (Istio's minHealthPercent)."""
        hosts = [h for h in self.hosts.values() if h.endpoint.healthy]
        if self.outlier is None:
            return hosts
        healthy = [h for h in hosts if not self.outlier.is_ejected(h.address)]
        panic = self.config.outlier.min_health_percent if self.config.outlier else 0
        if hosts and panic > 0 and 100 * len(healthy) < panic * len(hosts):
            self._stats.inc("upstream_rq_lb_healthy_panic")
            return hosts
        return healthy

    def choose(
        self, request: Request, exclude: frozenset[str], hash_context: HashContext, attempts: int
    ) -> HostState | None:
        eligible = self._eligible()
        if not eligible:
            return None
        key = None
        if self.config.lb.hash_policy is not None:
            key = hash_key(self.config.lb.hash_policy, request, hash_context.source_ip)
        # ``attempts`` is the route's hostSelectionRetryMaxAttempts: Envoy picks up to that
        # many times *more* than once (LoadBalancerBase::chooseHost: retry count + 1), and a
        # hashing balancer walks on along the ring for each re-pick.
        return self.balancer.choose(
            eligible, key, exclude=exclude, selection_retries=max(0, attempts)
        )

    # --- one attempt ------------------------------------------------------------------------------

    async def attempt(
        self,
        request: Request,
        *,
        timeout_s: float | None,
        exclude: frozenset[str],
        hash_context: HashContext,
        host_selection_attempts: int,
        route_timeout_s: float | None = None,
    ) -> AttemptResult:
        """One upstream request: wait for a connection, then send.

        ``timeout_s`` is the per-try timeout, armed once a connection is ready (Envoy's
        ``UpstreamRequest::onPoolReady`` → ``setupPerTryTimeout``). ``route_timeout_s`` is
        what is left of the route's global timeout, which Envoy arms before it asks the pool
        for a connection (``Filter::onRequestComplete``), so it also bounds the queueing.
        """
        host = self.choose(request, exclude, hash_context, host_selection_attempts)
        if host is None:
            self._stats.inc("upstream_cx_none_healthy")
            return AttemptResult(failure="no_healthy")
        address = host.address
        queued_at = time.monotonic()
        try:
            if route_timeout_s is None:
                conn = await host.pool.acquire()
            else:
                conn = await asyncio.wait_for(host.pool.acquire(), max(0.0, route_timeout_s))
        except Overflow:
            return AttemptResult(failure="overflow", host="")
        except ConnectFailure as exc:
            self._report(host, None, "connect")
            reason, transport = connect_failure_reasons(str(exc))
            return AttemptResult(
                failure="connect", host=address, reset_reason=reason, transport_failure=transport
            )
        except TimeoutError:
            # The route timer fired while the request was still pending: Envoy's upstream
            # request gets its host only in onPoolReady, so onResponseTimeout charges no host
            # (no outlier result, no host stats) and nothing reached the upstream.
            return AttemptResult(failure="route_timeout", host="")
        send_timeout, route_bound = timeout_s, False
        if route_timeout_s is not None:
            left = route_timeout_s - (time.monotonic() - queued_at)
            if send_timeout is None or left < send_timeout:
                send_timeout, route_bound = max(0.0, left), True
        self.budget.change_requests(1)
        host.active_requests += 1
        host.rq_total += 1
        self._stats.inc("upstream_rq_total")
        started = time.monotonic()
        try:
            if send_timeout is None:
                response = await conn.send(request)
            else:
                response = await asyncio.wait_for(conn.send(request), send_timeout)
        except TimeoutError:
            host.pool.discard(conn)
            # Both timers report a local-origin timeout (504) for a host that was sent to.
            self._report(host, None, "timeout")
            return AttemptResult(
                failure="route_timeout" if route_bound else "timeout",
                host=address,
                service_time_s=time.monotonic() - started,
            )
        except UpstreamReset:
            host.pool.discard(conn)
            self._report(host, None, "reset")
            return AttemptResult(
                failure="reset", host=address, service_time_s=time.monotonic() - started
            )
        except asyncio.CancelledError:
            host.pool.discard(conn)
            raise
        finally:
            host.active_requests -= 1
            self.budget.change_requests(-1)
        host.pool.release(conn)
        self._stats.response(response.status)
        self._report(host, response.status, None)
        return AttemptResult(
            response=response, host=address, service_time_s=time.monotonic() - started
        )

    def _report(self, host: HostState, status: int | None, failure: str | None) -> None:
        if status is not None and status < 500:
            host.rq_success += 1
        else:
            host.rq_error += 1
        if failure is not None:
            self._stats.inc("upstream_rq_completed")
        if self.outlier is not None:
            self.outlier.report(host.address, status, failure)

    def max_retries(self) -> int:
        """The retry breaker's limit: max_retries, or with Istio's retryBudget Envoy's
        ``RetryBudgetImpl::max`` (resource_manager_impl.h): the budget's share of active
        plus pending requests, never below its min_retry_concurrency."""
        limits = self.budget.thresholds
        if limits.retry_budget_percent is None:
            return limits.max_retries
        outstanding = self.budget.requests + self.budget.pending
        return max(
            int(limits.retry_budget_percent / 100.0 * outstanding),
            limits.retry_budget_min_concurrency,
        )

    def try_begin_retry(self) -> bool:
        if self.budget.retries >= self.max_retries():
            return False
        self.budget.change(retries=1)
        return True

    def end_retry(self) -> None:
        self.budget.change(retries=-1)

    # --- admin views ---------------------------------------------------------------------------

    def host_rows(self) -> list[dict[str, Any]]:
        rows = []
        for host in self.hosts.values():
            ejected = self.outlier is not None and self.outlier.is_ejected(host.address)
            flags = []
            if not host.endpoint.healthy:
                flags.append("/failed_eds_health")
            if ejected:
                flags.append("/failed_outlier_check")
            rows.append(
                {
                    "address": host.address,
                    "pod": host.endpoint.pod,
                    "cx_active": host.pool.active_connections,
                    "rq_active": host.active_requests,
                    "rq_total": host.rq_total,
                    "rq_error": host.rq_error,
                    "rq_success": host.rq_success,
                    "health_flags": "".join(flags) or "healthy",
                    "eds_healthy": host.endpoint.healthy,
                    "failed_outlier_check": ejected,
                }
            )
        return rows

    def outlier_events(self) -> list[dict[str, Any]]:
        if self.outlier is None:
            return []
        return [dict(e, cluster_name=self.config.name) for e in self.outlier.event_log()]
