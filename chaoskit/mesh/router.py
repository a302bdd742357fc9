"""Envoy's fault filter and router for one matched route.

Order as in an Istio sidecar's HTTP filter chain: the fault filter runs first (delay, then
abort, independent draws; an abort never reaches the router, so it is never retried), then
the router picks a weighted cluster, fires mirrors, and runs attempts under the route
timeout with retries, jittered exponential backoff and ``x-envoy-attempt-count``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace

from chaoskit.mesh import fault, local_reply
from chaoskit.mesh.attempt import AttemptResult, HashContext, UpstreamCluster
from chaoskit.mesh.config import HeaderMutation, MirrorSpec, Route
from chaoskit.mesh.http.message import Headers, Request, Response
from chaoskit.mesh.local_reply import LocalReply
from chaoskit.mesh.retry import (
    RetryDecision,
    backoff_delay,
    should_retry,
    with_request_headers,
)
from chaoskit.mesh.routing import pick_weighted
from chaoskit.mesh.stats import StatsStore
from chaoskit.regex import compile_re2

_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection")
)


@dataclass(slots=True)
class RequestInfo:
    """What the access log and the stats need to know about one downstream request."""

    flags: set[str] = field(default_factory=set)
    details: str = "via_upstream"
    upstream_host: str = ""
    upstream_cluster: str = ""
    route_name: str = ""
    attempts: int = 0
    service_time_ms: int | None = None


def apply_mutation(headers: Headers, mutation: HeaderMutation | None) -> None:
    if mutation is None:
        return
    for name in mutation.remove:
        headers.remove(name)
    for name, value in mutation.set:
        headers.set(name, value)
    for name, value in mutation.add:
        headers.add(name, value)


def rewrite_target(route: Route, request: Request) -> str:
    """Istio's ``rewrite.uri``: replace the matched prefix (the whole path for exact)."""
    rewrite = route.rewrite
    if rewrite is None:
        return request.target
    path, query = request.path, request.query
    if rewrite.regex is not None:
        pattern = compile_re2(rewrite.regex)
        # RE2 spells groups \1; Python's re2 wrapper substitutes \1 too.
        path = pattern.sub(rewrite.substitution or "", path)
    elif rewrite.prefix is not None:
        matcher = route.match.path
        if matcher is not None and matcher.kind == "prefix":
            path = rewrite.prefix + path[len(matcher.value) :]
        else:
            path = rewrite.prefix
    return path + (f"?{query}" if query else "")


def request_id(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))`` (Envoy's x-request-id is a random UUID v4),
    without building the UUID object: set the variant (RFC 4122) and version bits, then
    print the hex in its 8-4-4-4-12 groups."""
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)
    bits = (bits & ~(0xF000 << 64)) | (4 << 76)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def shadow_authority(authority: str) -> str:
    """Istio <= 1.27 mirrors to ``<host>-shadow[:port]``."""
    host, sep, port = authority.partition(":")
    return f"{host}-shadow{sep}{port}"


class Router:
    """Runs one route for one request against the proxy's clusters."""

    def __init__(
        self,
        clusters: Mapping[str, UpstreamCluster],
        stats: StatsStore,
        rng: random.Random,
        *,
        stat_prefix: str,
        background: Callable[[asyncio.Task[None]], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        # Time is injected so unit tests can run retries, backoff and timeouts on a fake clock.
        self.clock = clock
        self.sleep = sleep
        self.clusters = clusters
        self.stats = stats
        self.rng = rng
        self.stat_prefix = stat_prefix
        self._background = background

    def _draw(self, per_million: int) -> bool:
        return fault.drawn(self.rng, per_million)

    def _local(self, reply: LocalReply, info: RequestInfo) -> Response:
        info.flags.add(reply.flag)
        info.details = reply.details
        return reply.response()

    async def handle(
        self, route: Route, request: Request, info: RequestInfo, source_ip: str
    ) -> Response:
        info.route_name = route.name or ("default" if not route.virtual_service else "-")
        if route.fault is not None:
            aborted = await fault.inject(
                route.fault,
                stats=self.stats,
                stat_prefix=self.stat_prefix,
                draw=self._draw,
                sleep=self.sleep,
                flags=info.flags,
            )
            if aborted is not None:
                response, info.details = aborted
                return response
        if route.redirect is not None:
            return self._redirect(route, request, info)
        if route.direct_response is not None:
            info.details = "direct_response"
            return Response.text(route.direct_response.status, route.direct_response.body)
        if not route.clusters:
            return self._local(local_reply.NO_ROUTE, info)
        weighted = pick_weighted(route.clusters, self.rng)
        info.upstream_cluster = weighted.cluster
        cluster = self.clusters.get(weighted.cluster)
        if cluster is None:
            self.stats.inc(f"http.{self.stat_prefix}.no_cluster")
            reply = local_reply.NO_CLUSTER
            if route.cluster_not_found_status != reply.status:
                reply = replace(reply, status=route.cluster_not_found_status)
            return self._local(reply, info)

        upstream = self._upstream_request(route, request, weighted.request_headers)
        for mirror in route.mirrors:
            if self._draw(mirror.per_million):
                self._mirror(mirror, upstream, source_ip)
        response = await self._attempts(route, cluster, upstream, info, source_ip)
        if route.response_headers is not None:
            apply_mutation(response.headers, route.response_headers)
        if weighted.response_headers is not None:
            apply_mutation(response.headers, weighted.response_headers)
        return response

    # --- pieces -----------------------------------------------------------------------

    def _redirect(self, route: Route, request: Request, info: RequestInfo) -> Response:
        redirect = route.redirect
        assert redirect is not None
        host = redirect.authority or request.authority
        if redirect.port is not None:
            host = f"{host.rsplit(':', 1)[0]}:{redirect.port}"
        scheme = redirect.scheme or "http"
        path = redirect.uri if redirect.uri is not None else request.target
        info.details = "redirect"
        return Response(redirect.code, Headers([("location", f"{scheme}://{host}{path}")]))

    def _upstream_request(
        self, route: Route, request: Request, destination_headers: HeaderMutation | None
    ) -> Request:
        headers = request.headers.copy()
        headers.remove_all(_HOP_BY_HOP)
        if "x-request-id" not in headers:
            headers.set("x-request-id", request_id(self.rng.getrandbits(128)))
        headers.setdefault("x-forwarded-proto", "http")
        target = rewrite_target(route, request)
        if route.rewrite is not None and route.rewrite.authority:
            headers.set("host", route.rewrite.authority)
        apply_mutation(headers, route.request_headers)
        apply_mutation(headers, destination_headers)
        if route.timeout_s:
            headers.set("x-envoy-expected-rq-timeout-ms", str(int(route.timeout_s * 1000)))
        return Request(request.method, target, headers, request.body)

    def _mirror(self, mirror: MirrorSpec, request: Request, source_ip: str) -> None:
        cluster = self.clusters.get(mirror.cluster)
        if cluster is None:
            return
        headers = request.headers.copy()
        if mirror.shadow_host_suffix:
            headers.set("host", shadow_authority(request.authority))
        shadow = Request(request.method, request.target, headers, request.body)

        async def fire() -> None:
            # Fire and forget: the response is discarded, failures never reach the caller.
            await cluster.attempt(
                shadow,
                timeout_s=None,
                exclude=frozenset(),
                hash_context=HashContext(source_ip),
                host_selection_attempts=0,
            )

        self._background(asyncio.get_running_loop().create_task(fire()))

    async def _attempts(
        self,
        route: Route,
        cluster: UpstreamCluster,
        request: Request,
        info: RequestInfo,
        source_ip: str,
    ) -> Response:
        now = self.clock
        retry = with_request_headers(route.retry, request.headers)
        timeout_s = route.timeout_s
        override = request.headers.get("x-envoy-upstream-rq-timeout-ms")
        if override is not None and override.isdigit():
            timeout_s = int(override) / 1000 or None  # in-mesh callers may override (Envoy)
        deadline = now() + timeout_s if timeout_s else None
        per_try = retry.per_try_timeout_s if retry is not None else None
        if per_try is not None and timeout_s and per_try >= timeout_s:
            per_try = None  # Envoy ignores a per-try timeout not shorter than the route's
        tried: set[str] = set()
        hash_context = HashContext(source_ip)
        retries_done = 0
        # Envoy's RetryStateImpl holds a retry-breaker slot from the moment a retry is
        # scheduled until the next retry decision (or the request's end): over the backoff
        # and the retried attempt (retry_state_impl.cc, shouldRetry → resetRetry).
        slot = False
        try:
            while True:
                info.attempts += 1
                request.headers.set("x-envoy-attempt-count", str(info.attempts))
                remaining = None if deadline is None else deadline - now()
                if remaining is not None and remaining <= 0:
                    cluster.stats.inc("upstream_rq_timeout")
                    return self._local(local_reply.ROUTE_TIMEOUT, info)
                # Istio compiles the previous_hosts predicate away (retry_previous_hosts
                # False) only for a single-destination route with consistent hashing.
                exclude = (
                    frozenset(tried)
                    if retry is not None and retry.retry_previous_hosts
                    else frozenset()
                )
                # The route's global timer runs across queueing for a connection and every
                # attempt; the per-try timer starts when the connection is ready (router.cc
                # onRequestComplete, upstream_request.cc onPoolReady → setupPerTryTimeout).
                result = await cluster.attempt(
                    request,
                    timeout_s=per_try,
                    exclude=exclude,
                    hash_context=hash_context,
                    host_selection_attempts=retry.host_selection_max_attempts if retry else 0,
                    route_timeout_s=remaining,
                )
                if result.host:
                    tried.add(result.host)
                    info.upstream_host = result.host
                if result.failure == "route_timeout":
                    # The route timeout covers all attempts; when it fires there is no retry.
                    cluster.stats.inc("upstream_rq_timeout")
                    return self._local(local_reply.ROUTE_TIMEOUT, info)
                if result.failure == "timeout":
                    cluster.stats.inc("upstream_rq_per_try_timeout")
                decision = should_retry(retry, result) if retry is not None else RetryDecision.NO
                retried_before, slot = slot, False
                if retried_before:
                    cluster.end_retry()
                if decision is not RetryDecision.RETRY or retry is None:
                    if retried_before:
                        # Any decision not to retry after a retry was scheduled is a success.
                        cluster.stats.inc("upstream_rq_retry_success")
                    return self._final(result, info, cluster)
                if retries_done >= retry.num_retries:
                    info.flags.add("URX")
                    cluster.stats.inc("upstream_rq_retry_limit_exceeded")
                    return self._final(result, info, cluster)
                if not cluster.try_begin_retry():
                    # router.cc: RetryStatus::NoOverflow sets UpstreamOverflow (UO).
                    cluster.stats.inc("upstream_rq_retry_overflow")
                    info.flags.add("UO")
                    return self._final(result, info, cluster)
                slot = True
                retries_done += 1
                cluster.stats.inc("upstream_rq_retry")
                cluster.stats.inc("upstream_rq_retry_backoff_exponential")
                wait = backoff_delay(retries_done, retry.backoff_base_s, self.rng)
                if deadline is not None and now() + wait >= deadline:
                    await self.sleep(max(0.0, deadline - now()))
                    cluster.stats.inc("upstream_rq_timeout")
                    return self._local(local_reply.ROUTE_TIMEOUT, info)
                await self.sleep(wait)
        finally:
            if slot:
                cluster.end_retry()

    def _final(
        self, result: AttemptResult, info: RequestInfo, cluster: UpstreamCluster
    ) -> Response:
        if result.response is not None:
            response = result.response
            response.headers.remove_all(_HOP_BY_HOP)
            service_ms = int(result.service_time_s * 1000)
            info.service_time_ms = service_ms
            response.headers.set("x-envoy-upstream-service-time", str(service_ms))
            return response
        retried = info.attempts > 1
        failure = result.failure or "reset"
        if failure == "connect":
            reply = local_reply.reset_before_headers(
                "UF",
                result.reset_reason or local_reply.REMOTE_CONNECTION_FAILURE,
                result.transport_failure,
                retried=retried,
            )
        elif failure == "reset":
            reply = local_reply.reset_before_headers(
                "UC", local_reply.CONNECTION_TERMINATION, retried=retried
            )
        elif failure == "overflow":
            reply = local_reply.reset_before_headers("UO", "overflow", retried=retried)
        else:
            reply = {
                "timeout": local_reply.PER_TRY_TIMEOUT,
                "route_timeout": local_reply.ROUTE_TIMEOUT,
                "no_healthy": local_reply.NO_HEALTHY_UPSTREAM,
            }[failure]
        return self._local(reply, info)
