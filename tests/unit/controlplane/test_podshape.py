"""Pod readiness read from either injection shape (native sidecar or classic)."""

from __future__ import annotations

from typing import Any

import pytest

from chaoskit.topology.podshape import all_ready, long_running_statuses
from chaoskit.topology.spec import MeshSpec


def _status(name: str, ready: bool) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": 0, "state": {"running": {}}}


def native(proxy_ready: bool, app_ready: bool = True) -> dict[str, Any]:
    return {
        "spec": {
            "initContainers": [
                {"name": "istio-init"},
                {"name": "istio-proxy", "restartPolicy": "Always"},
            ],
            "containers": [{"name": "ratings"}],
        },
        "status": {
            "initContainerStatuses": [
                {**_status("istio-init", False), "state": {"terminated": {"exitCode": 0}}},
                _status("istio-proxy", proxy_ready),
            ],
            "containerStatuses": [_status("ratings", app_ready)],
        },
    }


def classic(proxy_ready: bool) -> dict[str, Any]:
    return {
        "spec": {"containers": [{"name": "ratings"}, {"name": "istio-proxy"}]},
        "status": {
            "containerStatuses": [_status("ratings", True), _status("istio-proxy", proxy_ready)]
        },
    }


@pytest.mark.parametrize("shape", [native, classic])
def test_a_sidecar_that_is_not_ready_holds_the_pod_back_in_either_shape(shape: Any) -> None:
    assert all_ready(shape(True))
    assert not all_ready(shape(False))
    assert sorted(s["name"] for s in long_running_statuses(shape(True))) == [
        "istio-proxy",
        "ratings",
    ]


def test_the_one_shot_init_container_is_not_counted() -> None:
    # istio-init has exited (not ready) and must not make the pod look unready.
    assert all_ready(native(True))
    assert not all_ready(native(True, app_ready=False))


def test_a_pod_without_statuses_is_not_ready() -> None:
    assert not all_ready({"spec": {}, "status": {}})


def test_the_mesh_spec_defaults_to_native_and_accepts_classic() -> None:
    body: dict[str, Any] = {
        "apiVersion": "chaoskit.dev/v1alpha1",
        "kind": "MeshSpec",
        "spec": {"namespaces": [{"name": "default"}]},
    }
    assert MeshSpec.model_validate(body).spec.sidecar_injection == "native"
    body["spec"]["sidecarInjection"] = "classic"
    assert MeshSpec.model_validate(body).spec.sidecar_injection == "classic"
    body["spec"]["sidecarInjection"] = "ambient"
    with pytest.raises(ValueError, match="sidecarInjection"):
        MeshSpec.model_validate(body)
