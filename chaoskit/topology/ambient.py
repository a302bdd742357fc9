"""Ambient mode in a mesh spec: which namespaces are enrolled, which waypoint serves them.

A namespace joins ambient with the label ``istio.io/dataplane-mode: ambient`` and names its
waypoint with ``istio.io/use-waypoint: NAME`` (istio/istio ``pkg/config/analysis/analyzers/
util/in_mesh.go``, ``NamespaceInAmbientMode``, tag 1.30.3: a namespace that also carries
``istio-injection: enabled`` or ``istio.io/rev`` is a sidecar namespace). Pods there run
without ``istio-proxy`` and carry ``ambient.istio.io/redirection: enabled``.

The embedded mesh adds what ``istioctl waypoint apply -n NS --enroll-namespace`` and the
ambient profile deploy: a waypoint Deployment per name a namespace uses (labelled
``gateway.networking.k8s.io/gateway-name``, as the Gateway controller labels the pods it
deploys) and one ztunnel for the mesh's single node (a DaemonSet pod in ``istio-system``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from chaoskit.topology.spec import AppSpec, MeshSpec, Namespace, Service, Workload

DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
AMBIENT = "ambient"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace"
REDIRECTION_ANNOTATION = "ambient.istio.io/redirection"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
WAYPOINT_APP = "waypoint"
ZTUNNEL_APP = "ztunnel"
ZTUNNEL_NAMESPACE = "istio-system"
# ztunnel's ports (istio/ztunnel src/config.rs, tag 1.30.3): 15001 takes the pods'
# redirected outbound traffic, 15020 serves Prometheus metrics.
ZTUNNEL_OUTBOUND_PORT = 15001
ZTUNNEL_METRICS_PORT = 15020


def namespace_is_ambient(namespace: Namespace) -> bool:
    labels = namespace.labels
    if labels.get("istio-injection") == "enabled" or labels.get("istio.io/rev"):
        return False
    return labels.get(DATAPLANE_MODE_LABEL) == AMBIENT


def dataplane_of(labels: Mapping[str, str]) -> str:
    """A namespace's data plane from its labels, as chaoskit names them: ``sidecar``,
    ``ambient`` (enrolled, with a waypoint) or ``ambient-l4`` (enrolled, ztunnel only)."""
    if labels.get("istio-injection") == "enabled" or labels.get("istio.io/rev"):
        return "sidecar"
    if labels.get(DATAPLANE_MODE_LABEL) != AMBIENT:
        return "sidecar"
    waypoint = labels.get(USE_WAYPOINT_LABEL, "")
    return "ambient" if waypoint and waypoint != "none" else "ambient-l4"


def ambient_namespaces(spec: MeshSpec) -> set[str]:
    return {ns.name for ns in spec.spec.namespaces if namespace_is_ambient(ns)}


def waypoint_for(spec: MeshSpec, namespace: str) -> str | None:
    """The waypoint an ambient namespace uses, or None (L4 only: ztunnel). A waypoint named
    in another namespace (``istio.io/use-waypoint-namespace``) is not attached: see
    :func:`service_waypoint`."""
    for ns in spec.spec.namespaces:
        if ns.name == namespace and namespace_is_ambient(ns):
            # "none" opts out of a waypoint (istio/istio pkg/config/constants, "none").
            ref = use_waypoint(ns.labels, namespace)
            return ref.name if isinstance(ref, WaypointRef) and ref.namespace == namespace else None
    return None


@dataclass(frozen=True, slots=True, order=True)
class WaypointRef:
    namespace: str
    name: str


def use_waypoint(
    labels: dict[str, str], default_namespace: str
) -> WaypointRef | Literal["none"] | None:
    """An object's own ``istio.io/use-waypoint`` (istio/istio 1.30.3 pilot/pkg/serviceregistry/
    ambient/waypoints.go ``getUseWaypoint``): "none" opts out, a name may be in another
    namespace with ``istio.io/use-waypoint-namespace``; None when the label is absent."""
    value = labels.get(USE_WAYPOINT_LABEL)
    if value is None:
        return None
    if value == "none":
        return "none"
    return WaypointRef(labels.get(USE_WAYPOINT_NAMESPACE_LABEL, default_namespace), value)


def service_waypoint(spec: MeshSpec, service: Service) -> WaypointRef | None:
    """The waypoint that serves traffic addressed to ``service`` (``fetchWaypointForService`` →
    ``fetchWaypointForTarget``, waypoints.go, tag 1.30.3): the Service's own label wins over
    its namespace's, and "none" on the Service opts it out of the namespace's waypoint.

    A waypoint named in another namespace is not used: the embedded waypoints are what
    ``istioctl waypoint apply`` deploys, whose Gateway listener admits its own namespace only
    (allowedRoutes' default, ``AllowsAttachmentFromNamespace``), so istiod reports the
    attachment denied and the service has no waypoint.

    Only service-addressed traffic follows this: ztunnel asks for the service's waypoint, and
    a workload's own waypoint only when the traffic names no service (istio/ztunnel 1.30.3
    src/proxy/outbound.rs, ``fetch_service_waypoint`` / ``fetch_workload_waypoint``). A pod's
    label therefore never moves service traffic, and the embedded waypoints serve service
    traffic only (istioctl's default ``--for service``), so it binds no workload traffic either.
    """
    if service.namespace not in ambient_namespaces(spec):
        return None
    own = use_waypoint(service.labels or {}, service.namespace)
    if own == "none":
        return None
    if own is None:
        name = waypoint_for(spec, service.namespace)
        return WaypointRef(service.namespace, name) if name else None
    return own if own.namespace == service.namespace else None


def service_waypoints(spec: MeshSpec) -> dict[str, WaypointRef]:
    """Each service's FQDN → the waypoint that serves it, for the services that have one."""
    out: dict[str, WaypointRef] = {}
    for service in spec.spec.services:
        ref = service_waypoint(spec, service)
        if ref is not None:
            out[service.fqdn] = ref
    return out


def uses_ambient(spec: MeshSpec) -> bool:
    return bool(ambient_namespaces(spec))


def ambient_workloads(spec: MeshSpec) -> list[Workload]:
    """The workloads ambient adds to a spec: ztunnel first, then each waypoint."""
    if not uses_ambient(spec):
        return []
    out = [
        Workload(
            name=ZTUNNEL_APP,
            namespace=ZTUNNEL_NAMESPACE,
            labels={"app": ZTUNNEL_APP},
            app=AppSpec(name=ZTUNNEL_APP),
            sidecar=False,
        )
    ]
    declared = {(w.namespace, w.name) for w in spec.spec.workloads}
    wanted = {
        WaypointRef(namespace, name)
        for namespace in ambient_namespaces(spec)
        if (name := waypoint_for(spec, namespace)) is not None
    } | set(service_waypoints(spec).values())
    for namespace, name in ((ref.namespace, ref.name) for ref in sorted(wanted)):
        if (namespace, name) in declared:
            continue
        out.append(
            Workload(
                name=name,
                namespace=namespace,
                labels={GATEWAY_NAME_LABEL: name, "istio.io/dataplane-mode": "none"},
                app=AppSpec(name=WAYPOINT_APP),
                sidecar=False,
            )
        )
    return out


def all_workloads(spec: MeshSpec) -> list[Workload]:
    """What the mesh runs: ambient's own workloads first (ztunnel before any pod it carries)."""
    return ambient_workloads(spec) + list(spec.spec.workloads)
