"""Compile the mesh state into one ProxySnapshot per proxy, as istiod does per xDS client.

Sidecars get one outbound listener per service port with a virtual host per service
(domains as Istio generates them, short names only within the proxy's namespace), every
VirtualService bound to ``mesh`` applied, and one cluster per service port and subset.
Gateways get a listener per Gateway server port with the VirtualServices bound to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from chaoskit.analysis.registry import host_matches, to_fqdn
from chaoskit.controlplane.gateway_api import virtual_services as gateway_api_virtual_services
from chaoskit.controlplane.model import MeshState, Ordered, PodView, ServiceView
from chaoskit.controlplane.policy import (
    effective_policy,
    istio_retry_budget,
    lb_spec,
    outlier_spec,
    thresholds,
)
from chaoskit.controlplane.routes import (
    RouteContext,
    bound_gateways,
    cluster_name,
    default_route,
    translate_http_routes,
)
from chaoskit.istio.common import Destination
from chaoskit.istio.destination_rule import Subset, TrafficPolicy
from chaoskit.istio.envoy_filter_fault import emulated_patch
from chaoskit.istio.resources import DestinationRule, EnvoyFilter, Gateway, VirtualService
from chaoskit.mesh.config import (
    Cluster,
    Endpoint,
    HttpFilter,
    Listener,
    ProxyKind,
    ProxySnapshot,
    Route,
    RouteConfig,
    ServerTls,
    VirtualHost,
)
from chaoskit.mesh.ztunnel import WORKLOADS

ROOT_NAMESPACE = "istio-system"  # meshConfig.rootNamespace's default


@dataclass(frozen=True, slots=True)
class _DrView:
    rule: DestinationRule
    namespace: str
    subsets: tuple[Subset, ...]
    traffic_policy: TrafficPolicy | None


class Compiler:
    """Answers "what does proxy X get?" for one MeshState."""

    def __init__(
        self, state: MeshState, clusters: dict[str, tuple[Cluster, ...]] | None = None
    ) -> None:
        self.state = state
        self._by_fqdn = {s.fqdn: s for s in state.services}
        # HTTPRoutes as istiod sees them: derived VirtualServices, routed like any other.
        self._derived = [
            vs for route in state.http_routes for vs in gateway_api_virtual_services(route)
        ]
        # Clusters depend on the proxy only through its namespace (DestinationRule lookup),
        # so proxies of one namespace share one tuple (and its JSON, see runtime._push_loop).
        # ``clusters``: a previous compiler's, when nothing clusters depend on (services,
        # endpoints, DestinationRules) changed since: a VirtualService or Gateway change.
        # istiod skips CDS on a Gateway change (skippedCdsConfigs, pilot/pkg/xds/cds.go)
        # but not on a VirtualService one: a Sidecar may scope clusters to its destinations,
        # which is not emulated here.
        self._clusters_by_namespace: dict[str, tuple[Cluster, ...]] = (
            clusters if clusters is not None else {}
        )
        # Sidecar routes depend on the proxy only through its namespace (short domains,
        # sourceNamespace) and, when some mesh VirtualService matches on sourceLabels, its
        # labels: proxies with the same view share one compiled listener tuple, as istiod
        # shares a push context's routes, so a push costs O(views × services), not
        # O(proxies × services).
        self._listeners_by_view: dict[
            tuple[str, tuple[tuple[str, str], ...]], tuple[Listener, ...]
        ] = {}
        self._gateway_listeners: dict[str, tuple[Listener, ...]] = {}
        self._inbound_by_view: dict[
            tuple[str, tuple[tuple[str, str], ...]], tuple[HttpFilter, ...]
        ] = {}
        self._label_sensitive = any(
            match.source_labels
            for vs in self._mesh_virtual_services()
            for route in vs.resource.spec.http or ()
            for match in route.match or ()
        )
        # Endpoint selection by index: pods of a namespace by label, not a scan of every pod
        # for every service (which made a push quadratic in the mesh size).
        self._pods_by_label: dict[tuple[str, str, str], list[PodView]] = {}
        for pod in state.pods:
            for key, value in pod.labels:
                self._pods_by_label.setdefault((pod.namespace, key, value), []).append(pod)

    # --- registry ---------------------------------------------------------------------

    def service(self, fqdn: str) -> ServiceView | None:
        return self._by_fqdn.get(fqdn)

    def service_port(self, fqdn: str, dest_port: int | None, listener_port: int) -> int:
        """The destination port: as given, else the service's only port, else the listener's."""
        if dest_port:
            return dest_port
        service = self.service(fqdn)
        if service is not None and len(service.ports) == 1:
            return service.ports[0].number
        return listener_port

    def endpoints(
        self, service: ServiceView, port: int, subset_labels: dict[str, str]
    ) -> list[Endpoint]:
        port_view = service.port(port)
        if port_view is None:
            return []
        out: list[Endpoint] = []
        if service.selector is not None:
            selector = dict(service.selector)
            for pod in self._candidates(service.namespace, selector):
                if not pod.selected_by(selector):
                    continue
                if pod.selected_by(subset_labels):
                    out.append(
                        Endpoint(
                            pod.ip, pod.host_port(port_view.target_port), pod.proxy_id, pod.labels
                        )
                    )
        else:
            for address, labels in service.static_endpoints:
                if all(dict(labels).get(k) == v for k, v in subset_labels.items()):
                    out.append(Endpoint(address, port_view.target_port, "", labels))
        return out

    def _candidates(self, namespace: str, selector: dict[str, str]) -> list[PodView]:
        """Pods of ``namespace`` that may match: the shortest label bucket (all if empty)."""
        if not selector:
            return [p for p in self.state.pods if p.namespace == namespace]
        return min(
            (self._pods_by_label.get((namespace, k, v), []) for k, v in selector.items()),
            key=len,
        )

    # --- destination rules --------------------------------------------------------------

    def destination_rule(self, fqdn: str, proxy_namespace: str) -> _DrView | None:
        """Istio's lookup: the proxy's namespace, then the service's, then the root namespace.

        Several rules for one host in one namespace are merged: the oldest traffic policy
        wins, a later one applies only if no older rule has one, and subsets are appended.
        """
        service = self.service(fqdn)
        order = [proxy_namespace, service.namespace if service else None, "istio-system"]
        for namespace in order:
            if namespace is None:
                continue
            matching = sorted(
                (
                    dr
                    for dr in self.state.destination_rules
                    if dr.namespace == namespace
                    and host_matches(to_fqdn(dr.resource.spec.host, dr.namespace), fqdn)
                ),
                key=lambda dr: (dr.resource.spec.host.startswith("*"), dr.order),
            )
            if matching:
                subsets: list[Subset] = []
                seen: set[str] = set()
                for dr in matching:
                    for subset in dr.resource.spec.subsets or ():
                        if subset.name not in seen:
                            seen.add(subset.name)
                            subsets.append(subset)
                # The oldest rule that has a traffic policy supplies it; later ones only add
                # subsets (mergeDestinationRule in pilot/pkg/model/destination_rule.go).
                policy = next(
                    (
                        dr.resource.spec.traffic_policy
                        for dr in matching
                        if dr.resource.spec.traffic_policy
                    ),
                    None,
                )
                return _DrView(matching[0].resource, matching[0].namespace, tuple(subsets), policy)
        return None

    def clusters(self, proxy: PodView) -> list[Cluster]:
        out: list[Cluster] = []
        for service in self.state.services:
            dr = self.destination_rule(service.fqdn, proxy.namespace)
            top = dr.traffic_policy if dr else None
            dr_id = f"{dr.rule.name}.{dr.namespace}" if dr else ""
            for port in service.ports:
                variants: list[tuple[str, dict[str, str], TrafficPolicy | None]] = [("", {}, None)]
                if dr is not None:
                    variants += [(s.name, s.labels or {}, s.traffic_policy) for s in dr.subsets]
                for subset_name, labels, subset_policy in variants:
                    policy = effective_policy(top, subset_policy, port.number)
                    budget = istio_retry_budget(top, subset_policy, port.number, self.state.compat)
                    limits, connect_timeout = thresholds(
                        policy.connection_pool,
                        budget,
                        self.state.compat.retry_budget_default_percent,
                        self.state.compat.track_remaining_cb_metrics,
                    )
                    out.append(
                        Cluster(
                            name=cluster_name(port.number, subset_name, service.fqdn),
                            service=service.fqdn,
                            port=port.number,
                            subset=subset_name,
                            endpoints=tuple(self.endpoints(service, port.number, labels)),
                            lb=lb_spec(policy.load_balancer),
                            thresholds=limits,
                            outlier=outlier_spec(policy.outlier_detection),
                            connect_timeout_s=connect_timeout,
                            destination_rule=dr_id,
                        )
                    )
        return out

    # --- sidecar routes ---------------------------------------------------------------------

    def _mesh_virtual_services(self, config_namespace: str = "") -> list[Ordered[VirtualService]]:
        """Mesh VirtualServices in the order a proxy of ``config_namespace`` selects them:
        those derived from Gateway API routes in its own namespace first (the "consumer
        override"), then every other by creation time (istio/istio 1.30.3
        pilot/pkg/model/virtualservice.go SelectVirtualServices, PILOT_UNIFIED_SIDECAR_SCOPE
        on by default; push_context.go sorts by creation time)."""
        mesh = [
            vs
            for vs in (*self.state.virtual_services, *self._derived)
            if "mesh" in bound_gateways(vs.resource.spec.gateways, vs.namespace)
        ]
        return sorted(
            mesh,
            key=lambda vs: (not (vs.gateway_api and vs.namespace == config_namespace), vs.order),
        )

    def _context(
        self,
        vs: Ordered[VirtualService],
        port: int,
        proxy: PodView,
        gateway: str | None,
        *,
        waypoint: bool = False,
    ) -> RouteContext:
        compat = self.state.compat
        return RouteContext(
            waypoint=waypoint,
            gateway_semantics=vs.gateway_api,
            vs_name=vs.resource.name,
            vs_namespace=vs.namespace,
            listener_port=port,
            proxy_namespace=proxy.namespace,
            proxy_labels=proxy.label_map,
            gateway=gateway,
            include_503_in_default_retries=compat.default_retry_on_503,
            mirror_shadow_suffix=compat.mirror_shadow_suffix,
            service_port=self.service_port,
            retry_backoff_and_previous_hosts=compat.retry_backoff_and_previous_hosts,
            consistent_hash=lambda dest: self.destination_hashes(
                dest, vs.namespace, proxy.namespace, port
            ),
        )

    def destination_hashes(
        self, dest: Destination, vs_namespace: str, proxy_namespace: str, listener_port: int
    ) -> bool:
        """Istio's ``hashForService``: the destination's effective load balancer hashes."""
        fqdn = to_fqdn(dest.host, vs_namespace)
        dr = self.destination_rule(fqdn, proxy_namespace)
        if dr is None:
            return False
        port = self.service_port(fqdn, dest.port.number if dest.port else None, listener_port)
        subset = next((s.traffic_policy for s in dr.subsets if s.name == dest.subset), None)
        balancer = effective_policy(dr.traffic_policy, subset, port).load_balancer
        return balancer is not None and balancer.consistent_hash is not None

    @staticmethod
    def sidecar_domains(service: ServiceView, port: int, proxy_namespace: str) -> tuple[str, ...]:
        """Istio's virtual-host domains: short names only for the proxy's own namespace."""
        if service.host:
            names = [service.host]
        else:
            names = [
                f"{service.name}.{service.namespace}",
                f"{service.name}.{service.namespace}.svc",
                service.fqdn,
            ]
            if service.namespace == proxy_namespace:
                names.insert(0, service.name)
        return tuple(d for name in names for d in (name, f"{name}:{port}"))

    def sidecar_listeners(self, proxy: PodView) -> list[Listener]:
        ports = sorted({p.number for s in self.state.services for p in s.ports})
        mesh_vs = self._mesh_virtual_services(proxy.namespace)
        compat = self.state.compat
        listeners: list[Listener] = []
        for port in ports:
            vhosts: list[VirtualHost] = []
            for service in self.state.services:
                if service.port(port) is None:
                    continue
                # The first VS naming the host wins (a later one's domains are duplicates,
                # httproute.go dedupeDomains); more than one user VS is IST0109.
                owner = next(
                    (
                        vs
                        for vs in mesh_vs
                        if _applies_to(vs, service, proxy.namespace)
                        and any(
                            host_matches(to_fqdn(h, vs.namespace), service.fqdn)
                            for h in vs.resource.spec.hosts
                        )
                    ),
                    None,
                )
                routes: list[Route]
                if owner is None:
                    routes = [default_route(service.fqdn, port, compat.default_retry_on_503)]
                else:
                    ctx = self._context(owner, port, proxy, None)
                    routes = list(translate_http_routes(owner.resource.spec.http or [], ctx))
                vhosts.append(
                    VirtualHost(
                        name=f"{service.fqdn}:{port}",
                        domains=self.sidecar_domains(service, port, proxy.namespace),
                        routes=tuple(routes),
                    )
                )
            listeners.append(
                Listener(f"0.0.0.0_{port}", port, RouteConfig(str(port), tuple(vhosts)))
            )
        return listeners

    # --- ambient: pods without sidecars, ztunnel, waypoints ------------------------------------

    def ambient_listeners(self, proxy: PodView) -> list[Listener]:
        """An ambient pod has no proxy: only names resolve (DNS), nothing routes in the pod."""
        compat = self.state.compat
        listeners: list[Listener] = []
        for port in sorted({p.number for s in self.state.services for p in s.ports}):
            vhosts = tuple(
                VirtualHost(
                    name=f"{service.fqdn}:{port}",
                    domains=self.sidecar_domains(service, port, proxy.namespace),
                    routes=(default_route(service.fqdn, port, compat.default_retry_on_503),),
                )
                for service in self.state.services
                if service.port(port) is not None
            )
            listeners.append(Listener(f"0.0.0.0_{port}", port, RouteConfig(str(port), vhosts)))
        return listeners

    def waypoints_of(self, service: ServiceView) -> list[PodView]:
        """The replicas of the waypoint serving traffic addressed to ``service``, if any."""
        ref = self.state.service_waypoints.get(service.fqdn)
        return [
            pod
            for pod in self.state.pods
            if ref is not None and pod.kind == "waypoint" and (pod.namespace, pod.workload) == ref
        ]

    def ztunnel_clusters(self) -> list[Cluster]:
        """What ztunnel needs per service port: its endpoints, or its waypoint's replicas."""
        out: list[Cluster] = []
        for service in self.state.services:
            if service.selector is None:
                continue
            waypoints = self.waypoints_of(service)
            for port in service.ports:
                if waypoints:
                    endpoints = tuple(
                        Endpoint(pod.ip, pod.host_port(port.number), pod.proxy_id, pod.labels)
                        for pod in waypoints
                    )
                else:
                    endpoints = tuple(self.endpoints(service, port.number, {}))
                out.append(
                    Cluster(
                        name=cluster_name(port.number, "", service.fqdn),
                        service=service.fqdn,
                        port=port.number,
                        subset="",
                        endpoints=endpoints,
                        lb=lb_spec(None),
                        thresholds=thresholds(None, None)[0],
                        outlier=None,
                        connect_timeout_s=thresholds(None, None)[1],
                    )
                )
        out.append(
            Cluster(
                name=WORKLOADS,
                service="",
                port=0,
                subset=WORKLOADS,
                endpoints=tuple(
                    Endpoint(pod.ip, 0, pod.proxy_id, pod.labels) for pod in self.state.pods
                ),
                lb=lb_spec(None),
                thresholds=thresholds(None, None)[0],
                outlier=None,
                connect_timeout_s=thresholds(None, None)[1],
            )
        )
        return out

    def waypoint_virtual_services(
        self, service: ServiceView, waypoint: PodView
    ) -> list[Ordered[VirtualService]]:
        """Every mesh VS for the host from the service's or the waypoint's namespace, merged
        in order (listener_waypoint.go, getVirtualServiceForWaypoint, tag 1.30.3)."""
        return [
            vs
            for vs in self._mesh_virtual_services(waypoint.namespace)
            if vs.namespace in (service.namespace, waypoint.namespace)
            and any(
                host_matches(to_fqdn(h, vs.namespace), service.fqdn) for h in vs.resource.spec.hosts
            )
        ]

    def waypoint_listeners(self, proxy: PodView) -> list[Listener]:
        """One listener per port of the services bound to this waypoint, their L7 policy in it.

        VirtualService rules are translated as for a sidecar, bound to ``mesh``, with
        ``sourceLabels`` matches dropped; with no rule left, the default route
        (buildWaypointInboundHTTPRouteConfig → buildSidecarInboundHTTPRouteConfig, whose
        waypoint branch is BuildDefaultHTTPOutboundRoute: Istio's default retries).
        """
        compat = self.state.compat
        served = [
            s
            for s in self.state.services
            if s.selector is not None
            and self.state.service_waypoints.get(s.fqdn) == (proxy.namespace, proxy.workload)
        ]
        by_port: dict[int, list[VirtualHost]] = {}
        for service in served:
            for port_view in service.ports:
                port = port_view.number
                routes: list[Route] = []
                for vs in self.waypoint_virtual_services(service, proxy):
                    ctx = self._context(vs, port, proxy, None, waypoint=True)
                    routes.extend(translate_http_routes(vs.resource.spec.http or [], ctx))
                if not routes:
                    routes = [default_route(service.fqdn, port, compat.default_retry_on_503)]
                by_port.setdefault(port, []).append(
                    VirtualHost(
                        name=f"{service.fqdn}:{port}",
                        # A waypoint matches the service by its VIP; here by every name of it.
                        domains=self.sidecar_domains(service, port, service.namespace),
                        routes=tuple(routes),
                    )
                )
        return [
            Listener(f"0.0.0.0_{port}", port, RouteConfig(f"inbound-vip|{port}", tuple(vhosts)))
            for port, vhosts in sorted(by_port.items())
        ]

    # --- gateways ---------------------------------------------------------------------------

    def gateways_for(self, proxy: PodView) -> list[Ordered[Gateway]]:
        return sorted(
            (
                gw
                for gw in self.state.gateways
                if gw.resource.spec.selector and proxy.selected_by(gw.resource.spec.selector)
            ),
            key=lambda gw: gw.order,
        )

    def gateway_listener_port(self, proxy: PodView, number: int) -> int:
        """A Gateway port that is a port of the gateway's Service listens on its targetPort."""
        for service in self.state.services:
            if service.selector is None or service.namespace != proxy.namespace:
                continue
            if proxy.selected_by(dict(service.selector)):
                port = service.port(number)
                if port is not None:
                    return port.target_port
        return number

    def gateway_listeners(self, proxy: PodView) -> list[Listener]:
        by_port: dict[int, list[tuple[Ordered[Gateway], int]]] = {}
        for gw in self.gateways_for(proxy):
            for index, server in enumerate(gw.resource.spec.servers):
                if server.port is None:
                    continue
                port = self.gateway_listener_port(proxy, server.port.number)
                by_port.setdefault(port, []).append((gw, index))
        listeners: list[Listener] = []
        for port, servers in sorted(by_port.items()):
            listeners.append(self._gateway_listener(proxy, port, servers))
        return listeners

    def _gateway_listener(
        self, proxy: PodView, port: int, servers: list[tuple[Ordered[Gateway], int]]
    ) -> Listener:
        vhosts: dict[str, list[Route]] = {}
        tls: ServerTls | None = None
        https_redirect = False
        for gw, index in servers:
            server = gw.resource.spec.servers[index]
            gateway_id = f"{gw.namespace}/{gw.resource.name}"
            if server.tls is not None:
                https_redirect = https_redirect or bool(server.tls.https_redirect)
                if server.tls.mode == "SIMPLE" and server.tls.credential_name:
                    secret = self.state.secrets.get((proxy.namespace, server.tls.credential_name))
                    if secret is not None:
                        # One certificate per listener here (Envoy: one chain per server),
                        # but every TLS server's hosts are accepted names.
                        names = (*(tls.sni_hosts if tls else ()), *server.hosts)
                        tls = ServerTls(secret.cert_pem, secret.key_pem, names)
            server_hosts = [h.split("/", 1)[-1] for h in server.hosts]
            for vs in sorted(self.state.virtual_services, key=lambda v: v.order):
                if gateway_id not in bound_gateways(vs.resource.spec.gateways, vs.namespace):
                    continue
                ctx = self._context(vs, port, proxy, gateway_id)
                for host in vs.resource.spec.hosts:
                    if not any(
                        host_matches(s, host) or host_matches(host, s) for s in server_hosts
                    ):
                        continue
                    # Rules of several VSs for one gateway host are merged, oldest first.
                    vhosts.setdefault(host, []).extend(
                        translate_http_routes(vs.resource.spec.http or [], ctx)
                    )
        virtual_hosts = tuple(
            # Istio adds "host:*" too; RouteTable already ignores the port of the authority.
            VirtualHost(f"{host}:{port}", (host,), tuple(routes))
            for host, routes in vhosts.items()
        )
        return Listener(
            f"0.0.0.0_{port}",
            port,
            RouteConfig(f"http.{port}", virtual_hosts),
            tls=tls,
            https_redirect=https_redirect and tls is None,
        )

    # --- EnvoyFilter ---------------------------------------------------------------------------

    def envoy_filters_for(self, proxy: PodView) -> list[Ordered[EnvoyFilter]]:
        """Istio's ``PushContext.EnvoyFilters``: the root namespace's filters, then the
        proxy's namespace's, each list by priority, then age (oldest first), then name;
        a filter selects by ``workloadSelector.labels`` (none: every workload of its
        namespace; the root namespace's: every workload of the mesh)."""

        def order(ef: Ordered[EnvoyFilter]) -> tuple[int, int, str]:
            return (ef.resource.spec.priority or 0, ef.order, ef.resource.name)

        out: list[Ordered[EnvoyFilter]] = []
        for namespace in dict.fromkeys((ROOT_NAMESPACE, proxy.namespace)):
            for ef in sorted(
                (ef for ef in self.state.envoy_filters if ef.namespace == namespace), key=order
            ):
                selector = ef.resource.spec.workload_selector
                if ef.resource.spec.target_refs:
                    continue  # targetRefs select waypoints and gateways, not sidecars
                if selector is None or proxy.selected_by(selector.labels or {}):
                    out.append(ef)
        return out

    def inbound_filters(self, proxy: PodView) -> tuple[HttpFilter, ...]:
        """The emulated HTTP filters of a sidecar's inbound side, in the order the patches
        insert them before the router (``chaoskit.istio.envoy_filter_fault``)."""
        if proxy.kind == "gateway" or not self.state.envoy_filters:
            return ()
        key = (proxy.namespace, proxy.labels)
        filters = self._inbound_by_view.get(key)
        if filters is None:
            found: list[HttpFilter] = []
            for ef in self.envoy_filters_for(proxy):
                for index, patch in enumerate(ef.resource.spec.config_patches or ()):
                    compiled = emulated_patch(index, patch).http_filter
                    if compiled is not None:
                        source = f"{ef.namespace}/{ef.resource.name}[{index}]"
                        found.append(replace(compiled, source=source))
            filters = self._inbound_by_view[key] = tuple(found)
        return filters

    # --- everything --------------------------------------------------------------------------

    def shared_clusters(self) -> dict[str, tuple[Cluster, ...]]:
        """The clusters compiled so far, by proxy namespace (for the next compiler)."""
        return self._clusters_by_namespace

    def _shared_clusters(self, proxy: PodView) -> tuple[Cluster, ...]:
        clusters = self._clusters_by_namespace.get(proxy.namespace)
        if clusters is None:
            clusters = self._clusters_by_namespace[proxy.namespace] = tuple(self.clusters(proxy))
        return clusters

    def _shared_sidecar_listeners(self, proxy: PodView) -> tuple[Listener, ...]:
        key = (proxy.namespace, proxy.labels if self._label_sensitive else ())
        listeners = self._listeners_by_view.get(key)
        if listeners is None:
            listeners = self._listeners_by_view[key] = tuple(self.sidecar_listeners(proxy))
        return listeners

    def _own_gateway_listeners(self, proxy: PodView) -> tuple[Listener, ...]:
        listeners = self._gateway_listeners.get(proxy.proxy_id)
        if listeners is None:
            listeners = tuple(self.gateway_listeners(proxy))
            self._gateway_listeners[proxy.proxy_id] = listeners
        return listeners

    def snapshot(self, proxy: PodView, version: int) -> ProxySnapshot:
        kind: ProxyKind = "sidecar"
        clusters = self._shared_clusters(proxy)
        if proxy.kind == "gateway":
            kind, listeners = "gateway", self._own_gateway_listeners(proxy)
        elif proxy.kind == "ambient":
            kind, listeners, clusters = "ambient", tuple(self.ambient_listeners(proxy)), ()
        elif proxy.kind == "ztunnel":
            kind, listeners, clusters = "ztunnel", (), tuple(self.ztunnel_clusters())
        elif proxy.kind == "waypoint":
            kind, listeners = "waypoint", tuple(self.waypoint_listeners(proxy))
        else:
            listeners = self._shared_sidecar_listeners(proxy)
        return ProxySnapshot(
            proxy=proxy.proxy_id,
            kind=kind,
            version=version,
            listeners=listeners,
            clusters=clusters,
            compat=self.state.compat,
            inbound_filters=self.inbound_filters(proxy),
        )


def _applies_to(vs: Ordered[VirtualService], service: ServiceView, proxy_namespace: str) -> bool:
    """A route with Gateway API semantics binds only proxies of its own namespace or the
    service's (producer and consumer routes; route.go buildSidecarVirtualHostsForVirtualService,
    tag 1.30.3)."""
    if not vs.gateway_api:
        return True
    return vs.namespace in (service.namespace, proxy_namespace)


def compile_all(
    state: MeshState, version: int, pods: Iterable[PodView]
) -> dict[str, ProxySnapshot]:
    compiler = Compiler(state)
    return {pod.proxy_id: compiler.snapshot(pod, version) for pod in pods}
