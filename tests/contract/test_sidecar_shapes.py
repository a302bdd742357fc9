"""Both sidecar shapes Istio 1.28 injects, as its injector's golden files have them.

On kind v1.34 Istio 1.28 injects ``istio-proxy`` as a native sidecar (an init container with
``restartPolicy: Always``), so code that looks only at ``spec.containers`` finds no mesh
pods at all on the game day. Every test here runs in both shapes; the pods come from
``tests/data/upstream/istio-1.28.10/inject`` (see its README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.cluster.backend import KubeBackend
from chaoskit.experiment.cluster_mesh import ClusterBackend, ClusterTarget
from chaoskit.kube.client import KubeClient
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.test_backend_cluster_only import FakeClock
from tests.contract.upstream import SHAPES

NS = "bookinfo"


@pytest.fixture(params=SHAPES)
def shaped(request: pytest.FixtureRequest, fake: FakeApiServer) -> FakeApiServer:
    fake.sidecar_shape = request.param
    fake.add_deployment(NS, "ratings-v1", {"app": "ratings", "version": "v1"}, replicas=2)
    fake.add_deployment(NS, "reviews-v3", {"app": "reviews", "version": "v3"})
    return fake


def mesh(fake: FakeApiServer, client: KubeClient, tmp_path: Path) -> ClusterBackend:
    clock = FakeClock()
    kube = KubeBackend(client, namespaces=[NS], run_id="run-s", journal_dir=tmp_path / "j")
    target = ClusterTarget("kind", fake.context, str(fake.kubeconfig), (NS,))
    return ClusterBackend(kube, target, sleep=clock.sleep, clock=clock)


def test_the_upstream_pods_have_the_shape_their_name_says(shaped: FakeApiServer) -> None:
    """The fixture itself: where istio-proxy is in the injector's output."""
    pod = next(iter(shaped.pods.values()))
    spec = pod["spec"]
    in_containers = any(c["name"] == "istio-proxy" for c in spec["containers"])
    native = [c for c in spec.get("initContainers", []) if c["name"] == "istio-proxy"]
    if shaped.sidecar_shape == "native":
        assert not in_containers
        assert native[0]["restartPolicy"] == "Always"
    else:
        assert in_containers
        assert not native


def test_the_mesh_pods_are_found_and_running_in_either_shape(
    shaped: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    """What failed on the first game day: no pod with a native sidecar was found."""
    pods = mesh(shaped, fake_client, tmp_path).pods(NS)
    assert sorted(p.labels["app"] for p in pods) == ["ratings", "ratings", "reviews"]
    assert all(p.running for p in pods)


def test_a_sidecar_that_is_not_ready_makes_its_pod_not_running(
    shaped: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    """A native sidecar reports readiness in initContainerStatuses, not containerStatuses."""
    key, pod = next((k, p) for k, p in shaped.pods.items() if k[1].startswith("reviews"))
    where = "initContainerStatuses" if shaped.sidecar_shape == "native" else "containerStatuses"
    for status in pod["status"][where]:
        if status["name"] == "istio-proxy":
            status["ready"] = False
    found = {p.name: p.running for p in mesh(shaped, fake_client, tmp_path).pods(NS)}
    assert found[key[1]] is False
    assert sum(found.values()) == 2


def test_admin_and_logs_reach_the_istio_proxy_container_in_either_shape(
    shaped: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    backend = mesh(shaped, fake_client, tmp_path)
    pod = backend.pods(NS, "app=reviews")[0]
    shaped.admin[(NS, pod.name, "server_info")] = '{"state": "LIVE"}'
    assert backend.admin(pod, "server_info") == '{"state": "LIVE"}'
    shaped.logs[(NS, pod.name)] = [(1_800_000_000.0, '{"response_code": 200}')]
    assert [r["response_code"] for r in backend.access_log(pod, 0)[1]] == [200]
