"""The data-plane mode of the embedded mesh's spec, and why a fault cannot act in ambient."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.errors import ConfigError
from chaoskit.experiment.ambient import ambient_without_waypoint, ejection_observers
from chaoskit.experiment.backend import Pod
from chaoskit.experiment.session import derive_spec
from chaoskit.topology.ambient import ambient_workloads, waypoint_for
from chaoskit.topology.spec import MeshSpec


@pytest.mark.parametrize(("mode", "waypoint"), [("ambient", "waypoint"), ("ambient-l4", None)])
def test_a_dataplane_mode_enrolls_the_app_namespaces(
    tmp_path: Path, mode: str, waypoint: str | None
) -> None:
    path = derive_spec({}, tmp_path, mode)
    assert path is not None
    spec = MeshSpec.load(path)
    assert waypoint_for(spec, "bookinfo") == waypoint
    names = [(w.namespace, w.name) for w in ambient_workloads(spec)]
    assert names[0] == ("istio-system", "ztunnel")
    expected = [("bookinfo", "waypoint"), ("default", "waypoint")] if waypoint else []
    assert names[1:] == expected


def test_sidecar_mode_keeps_the_built_in_spec(tmp_path: Path) -> None:
    assert derive_spec({}, tmp_path, "sidecar") is None
    with pytest.raises(ConfigError, match="'ambiant' is not a data-plane mode"):
        derive_spec({}, tmp_path, "ambiant")


def _pod(name: str, labels: dict[str, str], *, ambient: bool) -> Pod:
    return Pod(name, "bookinfo", "127.0.0.9", labels, True, ambient)


def test_the_reason_names_ambient_pods_without_a_waypoint() -> None:
    ratings = _pod("ratings-v1-a", {"app": "ratings"}, ambient=True)
    reason = ambient_without_waypoint("abort", [ratings], "ratings", "bookinfo")
    assert reason is not None
    assert "no waypoint serves namespace bookinfo" in reason
    assert "istioctl waypoint apply -n bookinfo --enroll-namespace" in reason


def test_no_ambient_reason_with_a_waypoint_or_with_sidecars() -> None:
    ratings = _pod("ratings-v1-a", {"app": "ratings"}, ambient=True)
    waypoint = _pod(
        "waypoint-b", {"gateway.networking.k8s.io/gateway-name": "waypoint"}, ambient=False
    )
    assert ambient_without_waypoint("abort", [ratings, waypoint], "ratings", "bookinfo") is None
    sidecar = _pod("ratings-v1-c", {"app": "ratings"}, ambient=False)
    assert ambient_without_waypoint("abort", [sidecar], "ratings", "bookinfo") is None


def test_ejections_are_seen_by_the_waypoint_when_the_callers_are_ambient() -> None:
    reviews = _pod("reviews-v3-a", {"app": "reviews"}, ambient=True)
    waypoint = _pod(
        "waypoint-b", {"gateway.networking.k8s.io/gateway-name": "waypoint"}, ambient=False
    )
    assert ejection_observers([reviews], [reviews, waypoint], "bookinfo") == [waypoint]
    sidecar = _pod("reviews-v3-c", {"app": "reviews"}, ambient=False)
    assert ejection_observers([sidecar], [sidecar, waypoint], "bookinfo") == [sidecar]


@pytest.mark.parametrize(
    ("labels", "plane"),
    [
        ({}, "sidecar"),
        ({"istio-injection": "enabled"}, "sidecar"),
        ({"istio.io/dataplane-mode": "ambient"}, "ambient-l4"),
        ({"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "none"}, "ambient-l4"),
        ({"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"}, "ambient"),
        # injection wins, as in Istio's NamespaceInAmbientMode
        ({"istio.io/dataplane-mode": "ambient", "istio.io/rev": "1-30"}, "sidecar"),
    ],
)
def test_a_namespaces_data_plane_is_read_from_its_labels(
    labels: dict[str, str], plane: str
) -> None:
    from chaoskit.topology.ambient import dataplane_of

    assert dataplane_of(labels) == plane
