"""One Envoy-shaped proxy: the sidecar of a pod, or an ingress gateway.

It holds the last configuration the control plane pushed and runs requests through it:
outbound (app → route table → fault filter → router → cluster), inbound (downstream →
the HTTP filters EnvoyFilters inserted → stats and access log → the app in the same
process) and gateway (downstream → route table → router). Cluster state (outlier
ejections, load-balancer state, pools) survives config pushes when a cluster's settings did
not change, as Envoy keeps a cluster it is not asked to replace.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chaoskit.mesh import fault
from chaoskit.mesh.accesslog import AccessLog, AccessRecord, iso_time, join_flags
from chaoskit.mesh.config import Cluster, ProxySnapshot
from chaoskit.mesh.http.message import Request, Response
from chaoskit.mesh.local_reply import NO_ROUTE, REMOTE_CONNECTION_FAILURE, reset_before_headers
from chaoskit.mesh.router import RequestInfo, Router
from chaoskit.mesh.routing import RouteTable
from chaoskit.mesh.stats import StatsStore
from chaoskit.mesh.upstream import ClusterRuntime

AppHandler = Callable[[Request], Awaitable[Response]]
_LOGGED_HEADERS = frozenset(
    ("x-envoy-original-path", "x-forwarded-for", "user-agent", "x-request-id", "host")
)


@dataclass(frozen=True, slots=True)
class ProxyIdentity:
    pod: str
    namespace: str
    ip: str
    kind: str  # sidecar | gateway
    port_map: tuple[tuple[int, int], ...] = ()  # port mode: pod port → port on 127.0.0.1

    def app_address(self, port: int) -> str:
        """Where the inbound cluster reaches the app's ``port`` (Envoy's upstream host)."""
        mapped = dict(self.port_map).get(port, port) if self.port_map else port
        return f"{self.ip}:{mapped}"

    @property
    def proxy_id(self) -> str:
        return f"{self.pod}.{self.namespace}"

    @property
    def server_header(self) -> str:
        return "istio-envoy"


class Proxy:
    def __init__(
        self,
        identity: ProxyIdentity,
        *,
        rng: random.Random,
        access_log: AccessLog,
        stats: StatsStore | None = None,
    ) -> None:
        self.identity = identity
        self.rng = rng
        self.access_log = access_log
        self.stats = stats or StatsStore()
        self.snapshot: ProxySnapshot | None = None
        self.clusters: dict[str, ClusterRuntime] = {}
        self._timed: list[ClusterRuntime] = []  # clusters with outlier detection
        self._tables: dict[int, RouteTable] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._routers: dict[int, Router] = {}
        self.log_level = "warning"  # Envoy's default for sidecars

    # --- configuration ------------------------------------------------------------------

    def apply(self, snapshot: ProxySnapshot) -> None:
        """Take a pushed snapshot; keep the runtime state of clusters whose settings hold."""
        fresh: dict[str, ClusterRuntime] = {}
        for config in snapshot.clusters:
            current = self.clusters.get(config.name)
            if current is not None and current.config is config:
                fresh[config.name] = current  # not in this (delta) push: nothing to do
            elif current is not None and _same_settings(current.config, config):
                current.update_endpoints(config)
                fresh[config.name] = current
            else:
                if current is not None:
                    current.close()
                fresh[config.name] = ClusterRuntime(config, self.stats, self.rng, snapshot.compat)
        for name, runtime in self.clusters.items():
            if name not in fresh:
                runtime.close()
        self.clusters = fresh
        self._timed = [c for c in fresh.values() if c.outlier is not None]
        old = {lst.port: lst for lst in self.snapshot.listeners} if self.snapshot else {}
        tables: dict[int, RouteTable] = {}
        for lst in snapshot.listeners:
            table = self._tables.get(lst.port)
            if table is None or lst.port not in old:
                tables[lst.port] = RouteTable(lst.route_config)
            elif old[lst.port] is lst:
                tables[lst.port] = table  # untouched by this (delta) push
            else:
                tables[lst.port] = table.updated(lst.route_config)
        self._tables = tables
        self._routers = {}
        self.snapshot = snapshot

    def knows_host(self, host: str, port: int) -> bool:
        """Whether an app's DNS lookup would resolve (a service the mesh knows on that port)."""
        table = self._tables.get(port)
        return table is not None and table.virtual_host(host) is not None

    def service_of(self, host: str, port: int) -> str:
        """The service a resolvable name stands for (its virtual host is ``fqdn:port``)."""
        table = self._tables[port]
        vhost = table.virtual_host(host)
        assert vhost is not None
        return vhost.name.rsplit(":", 1)[0]

    @property
    def needs_ticks(self) -> bool:
        """Whether a cluster runs a timer (outlier detection's interval)."""
        return bool(self._timed)

    def tick(self) -> None:
        for cluster in self._timed:
            cluster.tick()

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def router(self, port: int) -> Router:
        router = self._routers.get(port)
        if router is None:
            router = self._routers[port] = Router(
                self.clusters,
                self.stats,
                self.rng,
                stat_prefix=f"outbound_0.0.0.0_{port}",
                background=self._keep,
            )
        return router

    # --- request paths ------------------------------------------------------------------

    async def route(
        self, request: Request, port: int, source_ip: str, direction: str, remote: str
    ) -> Response:
        """Outbound (sidecar) or gateway routing of one request on listener ``port``."""
        start = time.time()
        info = RequestInfo()
        table = self._tables.get(port)
        hcm = f"http.outbound_0.0.0.0_{port}."
        counters = self.stats.counters
        counters[hcm + "downstream_rq_total"] += 1
        response: Response | None = None
        try:
            vhost = table.virtual_host(request.authority) if table is not None else None
            matched = table.route(vhost, request) if table is not None and vhost else None
            if matched is None:
                self.stats.inc(hcm + "no_route")
                info.flags.add(NO_ROUTE.flag)
                info.details = NO_ROUTE.details
                response = NO_ROUTE.response()
            else:
                response = await self.router(port).handle(matched, request, info, source_ip)
        except asyncio.CancelledError:
            info.flags.add("DC")
            info.details = "downstream_remote_disconnect"
            raise
        finally:
            status = response.status if response is not None else 0
            if response is not None:
                # Envoy overwrites the server header: "envoy" through a client sidecar,
                # "istio-envoy" from gateways (istio-semantics §4.4).
                response.headers.set(
                    "server", "envoy" if direction == "outbound" else "istio-envoy"
                )
                counters[f"{hcm}downstream_rq_{status // 100}xx"] += 1
            self._log(request, response, info, start, direction, remote, status)
            if self.log_level in ("trace", "debug"):
                # What Envoy's router logs at debug: the route, the cluster and the outcome.
                print(
                    f"[debug][router] {direction} {request.method} {request.authority}"
                    f"{request.target} route={info.route_name or '-'} "
                    f"cluster={info.upstream_cluster or '-'} host={info.upstream_host or '-'} "
                    f"status={status} flags={join_flags(info.flags)} attempts={info.attempts}",
                    file=sys.stderr,
                    flush=True,
                )
        return response

    async def inbound(
        self, request: Request, port: int, app: AppHandler | None, remote: str
    ) -> Response:
        """Server-side sidecar: count, log and hand the request to the app in-process.

        ``app`` is None while the app container is down: the sidecar's connect to it is
        refused, and with no retry policy on Istio 1.28's inbound route (istio/istio
        ``pilot/pkg/networking/core/route/retry/retry.go`` at 1.28.9 has none; the inbound
        ``reset-before-request`` retry came later) Envoy answers 503 UF itself.
        """
        start = time.time()
        info = RequestInfo(upstream_cluster=f"inbound|{port}||", route_name="default")
        prefix = f"cluster.inbound|{port}||."
        response: Response | None = None
        try:
            # The HTTP filters (an EnvoyFilter's fault) run before the router picks the app.
            aborted = await self._inbound_filters(port, info)
            if aborted is not None:
                response = aborted
                response.headers.set("server", "istio-envoy")
                return response
            if app is None:
                response = self._app_refused(port, info, prefix)
                return response
            counters = self.stats.counters
            counters[prefix + "upstream_rq_total"] += 1
            response = await app(request)
            status = response.status
            counters[f"{prefix}upstream_rq_{status}"] += 1
            counters[f"{prefix}upstream_rq_{status // 100}xx"] += 1
            elapsed_ms = int((time.time() - start) * 1000)
            info.service_time_ms = elapsed_ms
            info.upstream_host = self.identity.app_address(port)
            response.headers.set("x-envoy-upstream-service-time", str(elapsed_ms))
            response.headers.set("server", "istio-envoy")
            return response
        except asyncio.CancelledError:
            info.flags.add("DC")
            raise
        finally:
            self._log(
                request,
                response,
                info,
                start,
                "inbound",
                remote,
                response.status if response is not None else 0,
            )

    def _app_refused(self, port: int, info: RequestInfo, prefix: str) -> Response:
        """The inbound cluster's connect to a dead app: the pool fails the pending request
        (``upstream_rq_pending_failure_eject``, conn_pool_base.cc ``purgePendingStreams``)
        and the router charges a 503 (router.cc ``onUpstreamAbort``), flag UF."""
        for stat in ("upstream_cx_connect_fail", "upstream_rq_pending_failure_eject"):
            self.stats.inc(prefix + stat)
        self.stats.inc(prefix + "upstream_rq_503")
        self.stats.inc(prefix + "upstream_rq_5xx")
        reply = reset_before_headers(
            "UF", REMOTE_CONNECTION_FAILURE, "delayed connect error: Connection refused"
        )
        info.flags.add(reply.flag)
        info.details = reply.details
        info.upstream_host = self.identity.app_address(port)
        response = reply.response()
        response.headers.set("server", "istio-envoy")
        return response  # the caller's access-log entry records it

    async def _inbound_filters(self, port: int, info: RequestInfo) -> Response | None:
        """Run the EnvoyFilter HTTP filters in front of the inbound router (the fault filter,
        chaoskit.mesh.fault); an abort's local reply never reaches the app."""
        snapshot = self.snapshot
        for http_filter in snapshot.inbound_filters if snapshot is not None else ():
            if not http_filter.applies_to(port):
                continue
            aborted = await fault.inject(
                http_filter.fault,
                stats=self.stats,
                stat_prefix=f"inbound_0.0.0.0_{port}",
                draw=lambda per_million: fault.drawn(self.rng, per_million),
                sleep=asyncio.sleep,
                flags=info.flags,
            )
            if aborted is not None:
                response, info.details = aborted
                return response
        return None

    def _log(
        self,
        request: Request,
        response: Response | None,
        info: RequestInfo,
        start: float,
        direction: str,
        remote: str,
        status: int,
    ) -> None:
        # The five headers the record shows, first values, in one scan of the request's.
        seen: dict[str, str] = {}
        for name, value in request.headers:
            if name in _LOGGED_HEADERS and name not in seen:
                seen[name] = value
        # Positional, in AccessRecord's field order: keywords cost a third of the record.
        self.access_log.write(
            AccessRecord(
                iso_time(start),
                start,
                direction,
                request.method,
                seen.get("x-envoy-original-path") or request.target,
                "HTTP/1.1",
                status,
                join_flags(info.flags),
                info.details if status else "downstream_remote_disconnect",
                len(request.body),
                len(response.body) if response is not None else 0,
                int((time.time() - start) * 1000),
                str(info.service_time_ms) if info.service_time_ms is not None else "-",
                seen.get("x-forwarded-for") or "-",
                seen.get("user-agent") or "-",
                seen.get("x-request-id") or "-",
                seen.get("host") or "-",
                info.upstream_host or "-",
                info.upstream_cluster or "-",
                info.route_name or "-",
                info.attempts,
                remote,
            )
        )

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        for cluster in self.clusters.values():
            cluster.close()


def _same_settings(old: Cluster, new: Cluster) -> bool:
    """Envoy replaces a cluster only when its definition changes, not on endpoint updates."""
    return (
        old.lb == new.lb
        and old.thresholds == new.thresholds
        and old.outlier == new.outlier
        and old.connect_timeout_s == new.connect_timeout_s
    )
