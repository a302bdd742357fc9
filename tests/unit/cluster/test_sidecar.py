"""``chaoskit.topology.podshape`` on the sidecar injector's own output (Istio 1.28.10 testdata)."""

from __future__ import annotations

import pytest

from chaoskit.topology.podshape import (
    has_sidecar,
    ready_containers,
    sidecar_ready,
    sidecar_shape,
)
from tests.contract.upstream import SHAPES, injected_pod, kubelet_status


def started(shape: str, *, sidecar_ready: bool = True) -> dict[str, object]:
    pod = injected_pod(shape, "bookinfo", "reviews-v1-1", {"app": "reviews"})
    pod["status"] = kubelet_status(pod, "10.244.0.7", sidecar_ready=sidecar_ready)
    return pod


@pytest.mark.parametrize("shape", SHAPES)
def test_the_shape_is_read_from_where_the_injector_put_istio_proxy(shape: str) -> None:
    assert sidecar_shape(started(shape)) == shape
    assert has_sidecar(started(shape))


def test_a_pod_without_istio_proxy_has_no_sidecar() -> None:
    pod = {"spec": {"containers": [{"name": "coredns"}], "initContainers": []}}
    assert sidecar_shape(pod) is None


def test_an_init_container_named_istio_proxy_that_runs_to_completion_is_no_sidecar() -> None:
    """Only restartPolicy: Always keeps an init container running beside the app."""
    pod = {"spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "istio-proxy"}]}}
    assert not has_sidecar(pod)


def test_ready_counts_native_sidecars_and_not_finished_init_steps() -> None:
    """native-sidecar.yaml.injected: hello, plus istio-proxy and other-sidecar as native
    sidecars (istio-init runs to completion): 3 containers, as kubectl's READY counts."""
    assert ready_containers(started("native")) == (3, 3)
    assert ready_containers(started("classic")) == (2, 2)  # hello, istio-proxy


@pytest.mark.parametrize("shape", SHAPES)
def test_an_unready_proxy_is_seen_in_either_status_list(shape: str) -> None:
    pod = started(shape, sidecar_ready=False)
    assert not sidecar_ready(pod)
    ready, total = ready_containers(pod)
    assert ready == total - 1
    assert sidecar_ready(started(shape))
