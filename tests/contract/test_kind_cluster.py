"""The same contract on a real kind cluster with Istio and Bookinfo (`@pytest.mark.kind`).

Skipped unless pytest runs with ``--mesh kind`` (the chaoskit plugin's option): create the
cluster with ``chaoskit cluster up``, then ``pytest tests/contract/test_kind_cluster.py --mesh
kind --kube-context kind-chaoskit`` (the game day itself is ``pytest experiments/ --mesh kind``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from chaoskit.cluster import pins
from chaoskit.cluster.backend import KubeBackend, virtual_service_in
from chaoskit.cluster.guard import verify
from chaoskit.kube.client import KubeClient
from tests.contract.test_backend_contract import ratings_vs

pytestmark = pytest.mark.kind

HOW = (
    "needs a real kind cluster: run `chaoskit cluster up`, then `pytest experiments/ --mesh kind` "
    "(or this file with --mesh kind --kube-context kind-chaoskit)"
)


@pytest.fixture(scope="module")
def kind_client(request: pytest.FixtureRequest) -> Iterator[KubeClient]:
    if request.config.getoption("--mesh", default=None) != "kind":
        pytest.skip(HOW)
    context = request.config.getoption("--kube-context", default=None) or pins.CONTEXT
    verify(None, context)  # never run the contract against anything but kind
    client = KubeClient.from_kubeconfig(None, context)
    yield client
    client.close()


def test_guard_accepts_the_kind_cluster(kind_client: KubeClient) -> None:
    assert kind_client.nodes()
    assert all(n["spec"]["providerID"].startswith("kind://") for n in kind_client.nodes())


def test_apply_reaches_the_productpage_sidecar_and_rollback_removes_it(
    kind_client: KubeClient,
) -> None:
    run = KubeBackend(
        kind_client, namespaces=[pins.BOOKINFO_NAMESPACE], run_id=f"kind-{uuid.uuid4().hex[:8]}"
    )
    run.sweep()
    try:
        assert run.apply(ratings_vs("2s")).action in ("created", "configured")
        pod = run.pods(pins.BOOKINFO_NAMESPACE, "app=reviews,version=v2")[0]["metadata"]["name"]
        run.wait_for_config(
            pins.BOOKINFO_NAMESPACE, pod, virtual_service_in(pins.BOOKINFO_NAMESPACE, "ratings"), 60
        )
        stats = run.stats(pins.BOOKINFO_NAMESPACE, pod)
        assert any(name.startswith("cluster.outbound|9080||ratings.") for name in stats)
    finally:
        run.rollback()
    assert kind_client.get_object("virtualservices", pins.BOOKINFO_NAMESPACE, "ratings") is None


def test_the_faulty_ratings_replica_scales_up_and_back(kind_client: KubeClient) -> None:
    run = KubeBackend(kind_client, namespaces=[pins.BOOKINFO_NAMESPACE], run_id="kind-faulty")
    try:
        run.scale(pins.BOOKINFO_NAMESPACE, "ratings-faulty", 1)
        run.wait_rollout(pins.BOOKINFO_NAMESPACE, "ratings-faulty", 300)
    finally:
        run.rollback()
    assert (
        kind_client.deployment(pins.BOOKINFO_NAMESPACE, "ratings-faulty")["spec"]["replicas"] == 0
    )


def test_a_replica_fault_reaches_only_that_pods_inbound_listener_and_logs_are_json(
    kind_client: KubeClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The adapter's two translations that only a real Envoy can confirm: the EnvoyFilter
    lands in the chosen pod's listeners, and the access log lines parse as records."""
    from chaoskit.experiment.cluster_mesh import ClusterBackend, ClusterTarget

    run = KubeBackend(
        kind_client,
        namespaces=[pins.BOOKINFO_NAMESPACE],
        run_id=f"kind-{uuid.uuid4().hex[:8]}",
        journal_dir=tmp_path_factory.mktemp("journal"),
    )
    target = ClusterTarget("kind", pins.CONTEXT, None, (pins.BOOKINFO_NAMESPACE,))
    mesh = ClusterBackend(run, target)
    pod = next(p for p in mesh.pods(pins.BOOKINFO_NAMESPACE, "app=ratings") if p.running)
    try:
        mesh.set_app_settings(pod, {"errorRate": 1.0, "errorStatus": 503})
        listeners = mesh.admin(pod, "/config_dump?resource=dynamic_listeners")
        assert "chaoskit.replica_fault" in listeners
    finally:
        mesh.set_app_settings(pod, {})  # the shared client stays open for the other tests
        run.rollback()
    gateway = mesh.pods("istio-system", "istio=ingressgateway")[0]
    _, records = mesh.access_log(gateway, 0)
    assert records, "no JSON access-log line on the gateway: is accessLogEncoding JSON?"
    assert {"response_code", "response_flags", "authority", "start_ts"} <= set(records[-1])


def test_the_demo_echo_answers_through_fortio_with_its_pod_and_version(
    kind_client: KubeClient,
) -> None:
    """What the seed experiments read on kind: fortio's /fortio/fetch/ hands back the echo's
    x-chaoskit-pod and x-chaoskit-version headers, rendered from the pod's name and label."""
    import json
    import urllib.request

    with urllib.request.urlopen(pins.DEMO_URL, timeout=10) as response:
        pod = response.headers["x-chaoskit-pod"]
        version = response.headers["x-chaoskit-version"]
        body = json.loads(response.read())
    assert body == {"service": "my-service", "version": version, "pod": pod, "namespace": "default"}
    pods = kind_client.pods(pins.DEMO_NAMESPACE, "app=my-service")
    labels = {p["metadata"]["name"]: p["metadata"]["labels"]["version"] for p in pods}
    assert labels[pod] == version


def test_the_gateway_tls_secret_is_there_for_the_seed_template(kind_client: KubeClient) -> None:
    secret = kind_client.call(
        "GET", f"/api/v1/namespaces/{pins.ISTIO_NAMESPACE}/secrets/{pins.TLS_SECRET}"
    )
    assert secret["type"] == "kubernetes.io/tls"
    assert set(secret["data"]) >= {"tls.crt", "tls.key"}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (
        secret["metadata"].get("annotations") or {}
    )  # server-side apply: the key is not copied into an annotation


def test_the_ingress_and_the_load_client_are_found_where_kind_publishes_them(
    kind_client: KubeClient,
) -> None:
    """`cluster up`'s NodePort Services, read from the live cluster, resolve to the host
    ports kind-config.yaml maps them to."""
    from chaoskit.experiment.cluster_mesh import ClusterTarget, discover

    target = ClusterTarget("kind", pins.CONTEXT, None, (pins.BOOKINFO_NAMESPACE,), "", "", "")
    found, how = discover(kind_client, target)
    assert (found.ingress_http, found.ingress_https, found.client_url) == (
        pins.INGRESS_HTTP,
        pins.INGRESS_HTTPS,
        pins.FORTIO_URL,
    ), how
    assert all("published by kind" in line for line in how), how
