"""KubeBackend against the fake API server, for what only a real cluster has or does:
server errors and slow answers, pods/exec into the sidecar, Deployments and rollouts."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chaoskit.cluster.backend import (
    AbortGuard,
    KubeBackend,
    RollbackError,
    contains_text,
    virtual_service_in,
)
from chaoskit.errors import BackendError, ReadinessTimeout
from chaoskit.kube.client import ApiStatusError, ApiTimeout, Conflict, KubeClient
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.test_backend_contract import NS, ratings_vs

VS_PATH = r"/namespaces/bookinfo/virtualservices/ratings$"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def backend(client: KubeClient, **kwargs: Any) -> KubeBackend:
    kwargs.setdefault("sleep", lambda _s: None)
    return KubeBackend(client, namespaces=[NS], run_id="run-1", **kwargs)


# --- errors and deadlines ----------------------------------------------------------------------


def test_a_500_surfaces_as_a_clear_error_with_the_servers_message(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    fake.fail("POST", r"/virtualservices$", 500, message="etcdserver: leader changed")
    with pytest.raises(ApiStatusError) as error:
        backend(fake_client).apply(ratings_vs())
    assert error.value.status == 500
    assert str(error.value) == (
        "create virtualservices/bookinfo/ratings: 500 InternalError: etcdserver: leader changed"
    )


def test_a_409_is_retried_and_gives_up_after_the_retry_budget(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    fake.put_object("virtualservices", ratings_vs("1s"))
    fake.fail("PUT", VS_PATH, 409, reason="Conflict", message="the object has been modified")
    assert backend(fake_client).apply(ratings_vs("2s")).action == "configured"
    assert [m for m, p in fake.log if m == "PUT"] == ["PUT", "PUT"]

    fake.fail("PUT", VS_PATH, 409, reason="Conflict", message="modified", times=None)
    with pytest.raises(Conflict, match="409 modified"):
        backend(fake_client, conflict_retries=2).apply(ratings_vs("3s"))
    assert [m for m, p in fake.log if m == "PUT"].count("PUT") == 2 + 3


def test_a_slow_api_server_is_a_timeout_that_names_the_deadline(fake: FakeApiServer) -> None:
    fake.slow("GET", VS_PATH, 1.0)
    client = KubeClient.from_kubeconfig(str(fake.kubeconfig), fake.context, request_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(
        ApiTimeout,
        match=r"get virtualservices/bookinfo/ratings: the API server "
        r"http://127\.0\.0\.1:\d+ did not answer within 0\.3s",
    ):
        backend(client).apply(ratings_vs())
    assert time.monotonic() - started < 3.0
    client.close()


@pytest.mark.parametrize("retry_in", ["same run", "next run"])
def test_a_rollback_that_fails_keeps_what_failed_for_a_retry(
    fake: FakeApiServer, fake_client: KubeClient, tmp_path: Any, retry_in: str
) -> None:
    journal = tmp_path / "journal"
    fake.put_object("virtualservices", ratings_vs("1s"))
    run = backend(fake_client, journal_dir=journal)
    run.apply(ratings_vs("8s"))
    run.apply({**ratings_vs(), "metadata": {"name": "extra", "namespace": NS}})
    outage = fake.fail("PUT", VS_PATH, 503, reason="ServiceUnavailable", times=None)
    with pytest.raises(RollbackError) as error:
        run.rollback()
    message = str(error.value)
    assert "virtualservices.networking.istio.io bookinfo/ratings: replace" in message
    assert "503 ServiceUnavailable" in message
    assert f"the journal {journal / 'run-1.json'} keeps them" in message
    assert fake.objects.get(("virtualservices", NS, "extra")) is None  # the rest was undone
    kept = json.loads((journal / "run-1.json").read_text())
    assert [k["name"] for k in kept["undos"]] == ["ratings"]
    assert run.pending == ["virtualservices.networking.istio.io bookinfo/ratings"]
    fake.rules.remove(outage)
    if retry_in == "same run":
        assert run.rollback() == ["virtualservices.networking.istio.io bookinfo/ratings restored"]
    else:  # the process died; the next run heals the cluster from the journal
        next_run = KubeBackend(fake_client, namespaces=[NS], run_id="run-2", journal_dir=journal)
        assert next_run.recover() == [
            "virtualservices.networking.istio.io bookinfo/ratings restored"
        ]
    restored = fake.objects[("virtualservices", NS, "ratings")]
    assert restored["spec"]["http"][0]["fault"]["delay"]["fixedDelay"] == "1s"
    assert not (journal / "run-1.json").exists()


# --- pods, Deployments ------------------------------------------------------------------------------


def test_killing_a_replica_deletes_that_pod_only(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    fake.add_deployment(NS, "reviews-v1", {"app": "reviews", "version": "v1"}, replicas=2)
    run = backend(fake_client)
    pods = run.pods(NS, "app=reviews")
    victim = pods[0]["metadata"]["name"]
    run.kill_pod(NS, victim)
    assert ("DELETE", f"/api/v1/namespaces/{NS}/pods/{victim}") in fake.log
    after = [p["metadata"]["name"] for p in run.pods(NS, "app=reviews")]
    assert victim not in after
    assert len(after) == 2  # the ReplicaSet replaced it


def test_scaling_waits_for_the_rollout_and_rollback_restores_the_replicas(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    labels = {"app": "ratings", "version": "v1", "chaoskit.dev/faulty": "true"}
    fake.add_deployment(NS, "ratings-faulty", labels, replicas=0)
    fake.rollout_polls = 3
    clock = FakeClock()
    run = backend(fake_client, sleep=clock.sleep, clock=clock)
    assert run.scale(NS, "ratings-faulty", 1) == 0
    done = run.wait_rollout(NS, "ratings-faulty", timeout_s=30)
    assert done["status"]["availableReplicas"] == 1
    assert clock.now == 2.0  # two polls still rolling out, the third ready
    assert len(run.pods(NS, "chaoskit.dev/faulty=true")) == 1
    assert run.rollback() == ["deployment bookinfo/ratings-faulty scaled back to 0"]
    assert fake.deployments[(NS, "ratings-faulty")]["spec"]["replicas"] == 0
    assert run.pods(NS, "chaoskit.dev/faulty=true") == []


def test_a_rollout_that_never_finishes_times_out_with_the_last_state(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    fake.add_deployment(NS, "ratings-faulty", {"app": "ratings"}, replicas=0)
    fake.rollout_polls = 10**6
    clock = FakeClock()
    run = backend(fake_client, sleep=clock.sleep, clock=clock)
    run.scale(NS, "ratings-faulty", 1)
    with pytest.raises(
        ReadinessTimeout,
        match=r"deployment bookinfo/ratings-faulty did not finish rolling out within 5s; last "
        r"seen: generation 2 observed 1, replicas 0, updated 0, available 0 of 1",
    ):
        run.wait_rollout(NS, "ratings-faulty", timeout_s=5)


# --- the sidecar through pods/exec -------------------------------------------------------------------


def productpage(fake: FakeApiServer, client: KubeClient) -> str:
    fake.add_deployment(NS, "productpage-v1", {"app": "productpage", "version": "v1"})
    return str(client.pods(NS, "app=productpage")[0]["metadata"]["name"])


def test_stats_are_read_with_pilot_agent_through_exec(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    pod = productpage(fake, fake_client)
    fake.admin[(NS, pod, "stats")] = (
        "cluster.outbound|9080|v1|ratings.bookinfo.svc.cluster.local.upstream_rq_200: 41\n"
        "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.outlier_detection.ejections_active: 1\n"
        "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.upstream_rq_time: "
        "P0(nan,1.0) P25(nan,2.05)\n"
    )
    stats = backend(fake_client).stats(NS, pod)
    assert stats == {
        "cluster.outbound|9080|v1|ratings.bookinfo.svc.cluster.local.upstream_rq_200": 41,
        "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.outlier_detection.ejections_active": 1,
    }


def test_a_failing_admin_command_and_a_missing_container_are_clear_errors(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    pod = productpage(fake, fake_client)
    run = backend(fake_client)
    with pytest.raises(
        BackendError,
        match=rf"admin GET clusters on bookinfo/{pod} \(container "
        r"istio-proxy\) exited with 1: Error: 404 clusters",
    ):
        run.admin(NS, pod, "clusters")
    spec = fake.pods[(NS, pod)]["spec"]
    spec["containers"], spec["initContainers"] = [{"name": "productpage"}], []  # no sidecar
    with pytest.raises(ApiStatusError, match="400 container istio-proxy is not valid for pod"):
        run.admin(NS, pod, "stats")


def test_wait_for_config_polls_config_dump_until_the_route_is_there(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    pod = productpage(fake, fake_client)
    route = {
        "name": "ratings.bookinfo.svc.cluster.local:9080",
        "metadata": {
            "filter_metadata": {
                "istio": {
                    "config": "/apis/networking.istio.io/v1/namespaces/bookinfo/virtual-service/ratings"
                }
            }
        },
        "typed_per_filter_config": {"envoy.filters.http.fault": {"delay": {"fixed_delay": "7s"}}},
    }
    dumps = iter([{"configs": []}, {"configs": []}, {"configs": [{"routes": [route]}]}])
    reads: list[int] = []

    def answer() -> str:
        reads.append(1)
        return json.dumps(next(dumps))

    fake.admin[(NS, pod, "config_dump")] = answer
    clock = FakeClock()
    run = backend(fake_client, sleep=clock.sleep, clock=clock)
    dump = run.wait_for_config(NS, pod, virtual_service_in(NS, "ratings"), timeout_s=10)
    assert dump["configs"][0]["routes"][0] is not None
    assert len(reads) == 3
    assert contains_text('"fixed_delay": "7s"')(dump)


def test_wait_for_config_times_out_with_what_it_saw(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    pod = productpage(fake, fake_client)
    fake.admin[(NS, pod, "config_dump")] = '{"configs": []}'
    clock = FakeClock()
    run = backend(fake_client, sleep=clock.sleep, clock=clock)
    with pytest.raises(ReadinessTimeout) as error:
        run.wait_for_config(
            NS,
            pod,
            virtual_service_in(NS, "ratings"),
            timeout_s=2,
            interval_s=0.5,
            what="VirtualService bookinfo/ratings",
        )
    assert str(error.value) == (
        f"the sidecar of bookinfo/{pod} did not have VirtualService bookinfo/ratings within 2s "
        "(5 config_dump reads; last: the predicate was false); check `istioctl proxy-status` "
        "and the istiod logs"
    )


def test_a_slow_exec_is_a_timeout(fake: FakeApiServer, fake_client: KubeClient) -> None:
    pod = productpage(fake, fake_client)

    def slow() -> str:
        time.sleep(0.8)
        return "{}"

    fake.admin[(NS, pod, "config_dump")] = slow
    with pytest.raises(ApiTimeout, match=r"no end of output within 0\.3s"):
        fake_client.exec(
            NS,
            pod,
            ["pilot-agent", "request", "GET", "config_dump"],
            container="istio-proxy",
            timeout_s=0.3,
        )


# --- the abort guard --------------------------------------------------------------------------------


def test_the_abort_guard_rolls_back_when_the_metric_falls_below_the_floor(
    fake: FakeApiServer, fake_client: KubeClient
) -> None:
    run = backend(fake_client)
    run.apply(ratings_vs())
    readings = iter([None, 0.99, 0.97, 0.42, 0.99])
    guard = run.abort_guard(0.9, lambda: next(readings), name="success rate")
    assert [guard.poll(), guard.poll(), guard.poll()] == [False, False, False]
    assert guard.poll() is True
    assert guard.reason == "success rate 0.42 fell below the floor 0.9; aborting"
    assert fake.objects == {}  # rolled back
    assert guard.poll() is True  # stays tripped; the check is not called again
    assert next(readings) == 0.99


def test_an_abort_guard_without_data_never_trips() -> None:
    tripped: list[str] = []
    guard = AbortGuard(0.5, lambda: None, on_trip=tripped.append)
    assert not any(guard.poll() for _ in range(5))
    assert tripped == []


# --- journals belong to their cluster ---------------------------------------------------------------


def test_a_crashed_runs_journal_waits_for_its_own_cluster(
    fake: FakeApiServer, fake_client: KubeClient, tmp_path: Any
) -> None:
    journal = tmp_path / "journal"
    fake.put_object("virtualservices", ratings_vs("1s"))
    crashed = backend(fake_client, journal_dir=journal)
    crashed.apply(ratings_vs("8s"))
    del crashed  # the process died: its journal names this cluster

    (tmp_path / "other").mkdir()
    other = FakeApiServer(context="kind-other").start(tmp_path / "other")
    other_client = KubeClient.from_kubeconfig(str(other.kubeconfig), other.context)
    try:
        other.put_object("virtualservices", ratings_vs("5s"))
        there = KubeBackend(other_client, namespaces=[NS], run_id="run-2", journal_dir=journal)
        assert there.recover() == []
        assert (
            other.objects[("virtualservices", NS, "ratings")]["spec"]["http"][0]["fault"]["delay"][
                "fixedDelay"
            ]
            == "5s"
        )
        (notice,) = there.notices
        assert f"it was written for context kind-fake ({fake.url}" in notice
        assert (journal / "run-1.json").exists()
    finally:
        other_client.close()
        other.stop()

    here = KubeBackend(fake_client, namespaces=[NS], run_id="run-3", journal_dir=journal)
    assert here.recover() == ["virtualservices.networking.istio.io bookinfo/ratings restored"]
    assert here.notices == []
    assert not (journal / "run-1.json").exists()


def test_a_journal_is_not_replayed_on_a_re_created_cluster_of_the_same_name(
    fake: FakeApiServer, fake_client: KubeClient, tmp_path: Any
) -> None:
    journal = tmp_path / "journal"
    crashed = backend(fake_client, journal_dir=journal)
    crashed.apply(ratings_vs("8s"))
    del crashed
    fake.namespace_uids["kube-system"] = "uid-kube-system-2"  # `kind delete` + `kind create`
    client = KubeClient.from_kubeconfig(str(fake.kubeconfig), fake.context)
    try:
        next_run = KubeBackend(client, namespaces=[NS], run_id="run-2", journal_dir=journal)
        assert next_run.recover() == []
        (notice,) = next_run.notices
        assert "that cluster has been re-created since" in notice
        assert "kube-system uid uid-kube-system-1" in notice
        assert ("virtualservices", NS, "ratings") in fake.objects  # not deleted by a replay
        assert (journal / "run-1.json").exists()
    finally:
        client.close()
