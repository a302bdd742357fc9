"""Which waypoint serves a Service, as istiod resolves ``istio.io/use-waypoint`` (istio/istio
1.30.3 ``pilot/pkg/serviceregistry/ambient/waypoints.go``, ``fetchWaypointForTarget`` and
``getUseWaypoint``), and which waypoints the embedded mesh deploys for it."""

from __future__ import annotations

from typing import Any

from chaoskit.topology.ambient import (
    WaypointRef,
    ambient_workloads,
    service_waypoint,
    use_waypoint,
    waypoint_for,
)
from chaoskit.topology.spec import MeshSpec


def _spec(namespace_labels: dict[str, str], service_labels: dict[str, str] | None) -> MeshSpec:
    data: dict[str, Any] = {
        "apiVersion": "chaoskit.dev/v1alpha1",
        "kind": "MeshSpec",
        "metadata": {"name": "t"},
        "spec": {
            "namespaces": [
                {
                    "name": "app",
                    "labels": {"istio.io/dataplane-mode": "ambient", **namespace_labels},
                },
                {"name": "istio-system", "labels": {}},
            ],
            "services": [
                {
                    "name": "api",
                    "namespace": "app",
                    "labels": service_labels,
                    "ports": [{"name": "http", "port": 80}],
                }
            ],
            "workloads": [
                {
                    "name": "api",
                    "namespace": "app",
                    "labels": {"app": "api"},
                    "app": {"name": "echo"},
                }
            ],
        },
    }
    return MeshSpec.model_validate(data)


def _service_waypoint(spec: MeshSpec) -> WaypointRef | None:
    return service_waypoint(spec, spec.spec.services[0])


def test_the_label_value_none_opts_out_and_a_namespace_label_redirects() -> None:
    assert use_waypoint({"istio.io/use-waypoint": "none"}, "app") == "none"
    assert use_waypoint({}, "app") is None
    assert use_waypoint(
        {"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-namespace": "shared"}, "app"
    ) == WaypointRef("shared", "wp")


def test_the_services_own_label_comes_before_its_namespaces() -> None:
    spec = _spec({"istio.io/use-waypoint": "ns-wp"}, {"istio.io/use-waypoint": "svc-wp"})
    assert _service_waypoint(spec) == WaypointRef("app", "svc-wp")
    deployed = [(w.namespace, w.name) for w in ambient_workloads(spec)]
    assert deployed == [("istio-system", "ztunnel"), ("app", "ns-wp"), ("app", "svc-wp")]


def test_none_on_the_service_opts_out_of_the_namespaces_waypoint() -> None:
    spec = _spec({"istio.io/use-waypoint": "ns-wp"}, {"istio.io/use-waypoint": "none"})
    assert _service_waypoint(spec) is None


def test_without_its_own_label_a_service_follows_its_namespace() -> None:
    spec = _spec({"istio.io/use-waypoint": "ns-wp"}, {"app": "api"})
    assert _service_waypoint(spec) == WaypointRef("app", "ns-wp")


def test_a_waypoint_in_another_namespace_is_not_attached() -> None:
    """The embedded waypoints admit routes of their own namespace only."""
    elsewhere = {"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-namespace": "shared"}
    assert _service_waypoint(_spec({}, elsewhere)) is None
    on_namespace = _spec(elsewhere, None)
    assert waypoint_for(on_namespace, "app") is None
    assert _service_waypoint(on_namespace) is None
    assert [w.name for w in ambient_workloads(on_namespace)] == ["ztunnel"]
