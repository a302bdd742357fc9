"""``istio.io/use-waypoint`` on a Service and on a pod, through real sockets.

istiod resolves the waypoint of a Service from its own label first, then its namespace's, and
"none" opts out (istio/istio 1.30.3 ``pilot/pkg/serviceregistry/ambient/waypoints.go``,
``fetchWaypointForService`` → ``fetchWaypointForTarget`` → ``getUseWaypoint``). ztunnel sends
service-addressed traffic to the service's waypoint and consults a workload's waypoint only
for traffic that names no service (istio/ztunnel 1.30.3 ``src/proxy/outbound.rs``). The mesh
is ``tests/data/mesh/ambient-waypoint-labels.yaml``; each test puts an abort on one host and
sees which proxy, if any, answers it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_ambient import AmbientHandle

SPEC = Path(__file__).resolve().parent.parent / "data" / "mesh" / "ambient-waypoint-labels.yaml"


@pytest.fixture
def labelled(embedded_mesh: object) -> AmbientHandle:
    handle: AmbientHandle = embedded_mesh(AmbientHandle, spec=SPEC, seed=13)  # type: ignore[operator]
    handle.reset()
    return handle


def _abort(host: str, namespace: str) -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: abort-{host.split(".")[0]}, namespace: {namespace}}}
spec:
  hosts: [{host}]
  http:
  - fault: {{abort: {{httpStatus: 418, percentage: {{value: 100}}}}}}
    route: [{{destination: {{host: {host}}}}}]
"""


def _waypoint_pods(handle: AmbientHandle, namespace: str) -> list[str]:
    return [
        p["metadata"]["labels"]["gateway.networking.k8s.io/gateway-name"]
        for p in handle.pods(namespace, "gateway.networking.k8s.io/gateway-name")
    ]


def test_a_service_labelled_none_opts_out_of_its_namespaces_waypoint(
    labelled: AmbientHandle,
) -> None:
    """httpbin.mesh carries use-waypoint: none: ztunnel sends it straight to the pod, so no
    proxy applies its VirtualService abort (getUseWaypoint: "none" → isNone)."""
    labelled.apply(_abort("httpbin.mesh.svc.cluster.local", "mesh"), "mesh")
    assert labelled.fetch("httpbin.mesh:8000/get").status_code == 200


def test_a_pods_none_label_does_not_move_service_addressed_traffic(
    labelled: AmbientHandle,
) -> None:
    """backend's pods carry use-waypoint: none, the Service backend does not: traffic to the
    Service still goes through the namespace's waypoint, which answers the abort (ztunnel
    outbound.rs: a service-addressed request asks only for the service's waypoint)."""
    labelled.apply(_abort("backend.mesh.svc.cluster.local", "mesh"), "mesh")
    response = labelled.fetch("backend.mesh:9080/")
    assert (response.status_code, response.text) == (418, "fault filter abort")
    records = labelled.admin(labelled.waypoint(), "/chaoskit/access_log").json()["records"]
    assert records[-1]["response_flags"] == "FI"


def test_a_service_names_its_own_waypoint_in_a_namespace_without_one(
    labelled: AmbientHandle,
) -> None:
    """httpbin.svc names svc-waypoint while namespace svc names none: that waypoint is
    deployed in svc and applies the abort (the Service's label is read first)."""
    assert _waypoint_pods(labelled, "svc") == ["svc-waypoint"]
    labelled.apply(_abort("httpbin.svc.svc.cluster.local", "svc"), "svc")
    response = labelled.fetch("httpbin.svc:8000/get")
    assert (response.status_code, response.text) == (418, "fault filter abort")


def test_a_waypoint_in_another_namespace_is_not_attached(labelled: AmbientHandle) -> None:
    """echo.svc names the waypoint of namespace mesh: a waypoint deployed by istioctl admits
    routes of its own namespace only (allowedRoutes' default; AllowsAttachmentFromNamespace),
    so istiod leaves echo without a waypoint and its abort acts nowhere."""
    labelled.apply(_abort("echo.svc.svc.cluster.local", "svc"), "svc")
    assert labelled.fetch("echo.svc:8000/get").status_code == 200
