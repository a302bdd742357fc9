"""IST0167 IneffectivePolicy for L7 policy that ambient mode cannot apply.

In ambient mode, ztunnel is L4 only: a VirtualService's HTTP rules (routes, faults, retries,
timeouts) and a DestinationRule's traffic policy act only in a waypoint, which builds them
for the services bound to it (istio/istio ``pilot/pkg/networking/core/listener_waypoint.go``
and ``cluster_waypoint.go``, tag 1.30.3). For a service whose namespace is enrolled in
ambient without ``istio.io/use-waypoint``, such policy does nothing. istioctl reports the
same class of mistake for a Sidecar resource in an ambient namespace with IST0167 ("namespace
is in ambient mode, the policy has no impact", ``pkg/config/analysis/analyzers/sidecar/
selector.go``); chaoskit reports it with that code for the L7 kinds too. A match on
``sourceLabels`` is dropped by the waypoint (``waypointInboundRoute``), so a rule scoped to
callers' labels is reported as well.
"""

from __future__ import annotations

from chaoskit.analysis.context import Context
from chaoskit.analysis.registry import host_matches, to_fqdn
from chaoskit.istio.resources import DestinationRule, VirtualService
from chaoskit.topology.ambient import ambient_namespaces, service_waypoint
from chaoskit.topology.spec import MeshSpec


def _fix(namespace: str) -> str:
    return (
        f"deploy a waypoint for namespace {namespace}: istioctl waypoint apply -n {namespace} "
        f"--enroll-namespace (it labels the namespace istio.io/use-waypoint=waypoint)"
    )


def _ambient_services(mesh: MeshSpec, host: str, namespace: str) -> list[tuple[str, str | None]]:
    """(service namespace, its waypoint or None) for each ambient service ``host`` names."""
    ambient = ambient_namespaces(mesh)
    fqdn = to_fqdn(host, namespace)
    return [
        (service.namespace, ref.name if (ref := service_waypoint(mesh, service)) else None)
        for service in mesh.spec.services
        if service.namespace in ambient and host_matches(fqdn, service.fqdn)
    ]


def ambient_l7_policy(ctx: Context) -> None:
    """Needs the mesh's namespaces and services: skipped offline, like istioctl's."""
    mesh = ctx.registry.mesh
    if mesh is None or not ambient_namespaces(mesh):
        return
    for loaded, vs in ctx.of_kind(VirtualService):
        if vs.spec.gateways and "mesh" not in vs.spec.gateways:
            continue  # bound to gateways only: an ingress gateway applies it, not ztunnel
        if not vs.spec.http:
            continue
        for host_index, host in enumerate(vs.spec.hosts):
            for service_ns, waypoint in _ambient_services(mesh, host, loaded.namespace):
                if waypoint is None:
                    ctx.report(
                        "IST0167",
                        loaded,
                        f"spec.hosts[{host_index}]",
                        f"host {host} is in namespace {service_ns}, which is in ambient mode "
                        "without a waypoint; ztunnel does not apply HTTP routes, faults, "
                        "retries or timeouts",
                        fix=_fix(service_ns),
                    )
                    continue
                if loaded.namespace != service_ns:
                    # getVirtualServiceForWaypoint: only the service's or the waypoint's
                    # namespace (the embedded waypoints live in the service's).
                    ctx.report(
                        "IST0167",
                        loaded,
                        f"spec.hosts[{host_index}]",
                        f"host {host} is served by waypoint {service_ns}/{waypoint}, which "
                        f"reads VirtualServices only from namespace {service_ns}, not "
                        f"{loaded.namespace}",
                        fix=f"move the VirtualService to namespace {service_ns}",
                    )
                    continue
                for i, route in enumerate(vs.spec.http):
                    for j, match in enumerate(route.match or []):
                        if match.source_labels:
                            ctx.report(
                                "IST0167",
                                loaded,
                                f"spec.http[{i}].match[{j}].sourceLabels",
                                f"host {host} is served by waypoint {service_ns}/{waypoint}, "
                                "which drops matches on sourceLabels",
                                fix="match on a header the caller sets instead, or apply "
                                "the rule in the caller's sidecar (a namespace with sidecars)",
                            )
    for loaded, dr in ctx.of_kind(DestinationRule):
        if dr.spec.traffic_policy is None and not any(
            s.traffic_policy for s in dr.spec.subsets or []
        ):
            continue
        for service_ns, waypoint in _ambient_services(mesh, dr.spec.host, loaded.namespace):
            if waypoint is None:
                ctx.report(
                    "IST0167",
                    loaded,
                    "spec.trafficPolicy" if dr.spec.traffic_policy else "spec.subsets",
                    f"host {dr.spec.host} is in namespace {service_ns}, which is in ambient "
                    "mode without a waypoint; ztunnel does not apply connection pools, "
                    "outlier detection or load balancing",
                    fix=_fix(service_ns),
                )
