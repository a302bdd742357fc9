"""Why a fault cannot act in ambient mode: the destination's pods have no waypoint.

A VirtualService fault is applied by the proxy that routes the request: a client's sidecar,
or in ambient mode the destination's waypoint (istio/istio ``pilot/pkg/networking/core/
listener_waypoint.go``, tag 1.30.3). ztunnel is L4 only, so when the callers are ambient
pods and no waypoint serves the service, no proxy has the fault and the experiment must
say so rather than judge a window the fault never touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from chaoskit.experiment.backend import Pod

WAYPOINT_LABEL = "gateway.networking.k8s.io/gateway-name"


def ambient_without_waypoint(
    description: str, pods: Iterable[Pod], service: str, namespace: str
) -> str | None:
    """The reason a fault on ``service.namespace`` cannot act, or None if ambient is not why."""
    pods = list(pods)
    targets = [p for p in pods if p.namespace == namespace and p.labels.get("app") == service]
    if not targets or not all(p.ambient for p in targets):
        return None
    if any(p.namespace == namespace and WAYPOINT_LABEL in p.labels for p in pods):
        return None
    return (
        f"{description}: the pods of {service}.{namespace} run in ambient mode "
        f"(ambient.istio.io/redirection: enabled) and no waypoint serves namespace "
        f"{namespace}, so no proxy applies the fault (ztunnel is L4 only); the experiment "
        f"proves nothing. Deploy a waypoint for namespace {namespace}: istioctl waypoint "
        f"apply -n {namespace} --enroll-namespace"
    )


def ejection_observers(selected: list[Pod], pods: Iterable[Pod], namespace: str) -> list[Pod]:
    """Who holds the outlier detector for a service in ``namespace``.

    Callers with sidecars each hold their own. Ambient callers hold none: the destination's
    waypoint does, one detector per waypoint replica shared by every caller
    (``cluster_waypoint.go``, ``buildWaypointInboundVIPCluster`` → ``applyOutlierDetection``,
    tag 1.30.3), so its replicas are the ones that eject.
    """
    if not selected or not all(p.ambient for p in selected):
        return selected
    waypoints = [p for p in pods if p.namespace == namespace and WAYPOINT_LABEL in p.labels]
    return [p for p in waypoints if p.running] or selected
