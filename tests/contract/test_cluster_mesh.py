"""The experiment seam on a real cluster (``--mesh kind|kube``), against the fake API server.

The fake serves what a kind cluster with Istio would: pods with an ``istio-proxy``
container, ``pods/exec`` of ``pilot-agent request GET config_dump`` (here a dump derived
from the Istio objects stored, so a write changes it as istiod's push would), pod logs
with timestamps, Deployments and nodes with ``kind://`` provider IDs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from chaoskit.cluster.accesslog import parse_log
from chaoskit.cluster.backend import KubeBackend
from chaoskit.cluster.guard import UnsafeTarget
from chaoskit.errors import ConfigError, ReadinessTimeout
from chaoskit.experiment.cluster_mesh import (
    REPLICA_FAULT_LABEL,
    ClusterBackend,
    ClusterTarget,
    config_fingerprint,
    inbound_fault,
)
from chaoskit.experiment.record import ExperimentRecord
from chaoskit.experiment.session import ChaosSession, Settings, label_safe
from chaoskit.kube.client import KubeClient
from chaoskit.kube.undo import Journal, ObjectRef, ObjectUndo, TargetIdentity
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.test_backend_cluster_only import FakeClock

NS = "bookinfo"


def pushed_config(fake: FakeApiServer, *, frozen: bool = False) -> Any:
    """What a sidecar's config_dump shows: the Istio objects istiod has pushed (all of them,
    at once), or, ``frozen``, whatever was there when the proxy stopped listening."""
    snapshot = json.dumps(sorted(fake.objects.items(), key=str), default=str)

    def dump() -> str:
        state = snapshot if frozen else json.dumps(sorted(fake.objects.items(), key=str))
        routes = {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump", "s": state}
        secrets = {
            "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
            "t": time.time(),
        }
        return json.dumps({"configs": [routes, secrets]})

    return dump


HCM = "envoy.filters.network.http_connection_manager"
ROUTER = "envoy.filters.http.router"


def inbound_listener(fake: FakeApiServer, namespace: str, pod: str) -> dict[str, Any]:
    """The pod's ``virtualInbound`` listener as Envoy dumps it (the nesting of
    ``tests/data/upstream/istio-1.28.10/istioctl/proxyconfig-config_dump.json``: filter
    chains, the HTTP connection manager, its ``http_filters`` ending with the router), with
    each ``SIDECAR_INBOUND`` ``INSERT_BEFORE`` patch of an EnvoyFilter whose
    workloadSelector matches the pod's labels inserted before the router, as istiod does."""
    labels = fake.pods[(namespace, pod)]["metadata"].get("labels") or {}
    inserted = []
    for (plural, ns, _name), obj in sorted(fake.objects.items()):
        if plural != "envoyfilters" or ns != namespace:
            continue
        wanted = (obj["spec"].get("workloadSelector") or {}).get("labels") or {}
        if all(labels.get(k) == v for k, v in wanted.items()):
            inserted += [p["patch"]["value"] for p in obj["spec"].get("configPatches") or []]
    manager = {
        "name": HCM,
        "typed_config": {"http_filters": [*inserted, {"name": ROUTER}]},
    }
    listener = {"name": "virtualInbound", "filter_chains": [{"filters": [manager]}]}
    return {"name": "virtualInbound", "active_state": {"listener": listener}}


def pushed_config_by_pod(fake: FakeApiServer) -> Any:
    """:func:`pushed_config` plus each pod's own inbound listener."""
    routes = pushed_config(fake)

    def dump(namespace: str, pod: str) -> str:
        configs = json.loads(routes())["configs"]
        with fake._lock:
            listener = inbound_listener(fake, namespace, pod)
        listeners = {
            "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
            "dynamic_listeners": [listener],
        }
        return json.dumps({"configs": [listeners, *configs]})

    return dump


@pytest.fixture
def cluster(fake: FakeApiServer) -> FakeApiServer:
    """Bookinfo's ratings (two replicas) and a caller, reviews, each with a sidecar."""
    fake.add_deployment(NS, "ratings-v1", {"app": "ratings", "version": "v1"}, replicas=2)
    fake.add_deployment(NS, "reviews-v3", {"app": "reviews", "version": "v3"})
    fake.add_deployment("istio-system", "istiod", {"app": "istiod"})
    fake.deployments[("istio-system", "istiod")]["spec"]["template"]["spec"] = {
        "containers": [{"name": "discovery", "image": "gcr.io/istio-release/pilot:1.28.10"}]
    }
    fake.admin_default["config_dump"] = pushed_config(fake)
    fake.admin_by_pod["config_dump"] = pushed_config_by_pod(fake)
    fake.rollout_polls = 1
    return fake


def make_backend(
    fake: FakeApiServer, client: KubeClient, tmp_path: Path, **kwargs: Any
) -> tuple[ClusterBackend, FakeClock]:
    clock = FakeClock()
    kube = KubeBackend(
        client,
        namespaces=[NS],
        run_id="run-7",
        journal_dir=tmp_path / "journal",
        sleep=lambda _s: None,
    )
    target = ClusterTarget("kind", fake.context, str(fake.kubeconfig), (NS,))
    backend = ClusterBackend(kube, target, sleep=clock.sleep, clock=clock, **kwargs)
    return backend, clock


@pytest.fixture
def backend(cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path) -> ClusterBackend:
    mesh, _clock = make_backend(cluster, fake_client, tmp_path)
    return mesh


def ratings_fault() -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "ratings", "namespace": NS},
        "spec": {
            "hosts": ["ratings"],
            "http": [
                {
                    "name": "chaoskit-abort-1",
                    "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 100}}},
                    "route": [{"destination": {"host": "ratings"}}],
                }
            ],
        },
    }


# --- Istio resources reach the sidecars, and go away again ------------------------------------


def test_apply_waits_for_the_sidecars_and_rollback_restores(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    undos = backend.apply_objects([ratings_fault()], run_id="run-7")
    assert [u.before for u in undos] == [None]  # it did not exist
    stored = cluster.objects[("virtualservices", NS, "ratings")]
    assert stored["metadata"]["labels"]["chaoskit.dev/run"] == "run-7"
    assert [o["metadata"]["name"] for o in backend.list_objects()] == ["ratings"]
    # every sidecar in the blast radius was read before and after the write
    reads = [p for m, p in cluster.log if m == "GET" and p.endswith("/exec")]
    assert len({p.split("/")[-2] for p in reads}) == 3

    backend.rollback(undos)
    assert ("virtualservices", NS, "ratings") not in cluster.objects
    assert backend.kube.pending == []


def test_a_change_that_never_reaches_a_sidecar_is_a_timeout_naming_it(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    stuck = sorted(name for ns, name in cluster.pods if ns == NS)[0]
    cluster.admin[(NS, stuck, "config_dump")] = pushed_config(cluster, frozen=True)
    others = [name for ns, name in cluster.pods if ns == NS and name != stuck]
    for name in others:  # the others have it; the stuck one never changes
        cluster.admin[(NS, name, "config_dump")] = pushed_config(cluster)
    mesh, clock = make_backend(cluster, fake_client, tmp_path)  # the default settle time
    with pytest.raises(ReadinessTimeout) as error:
        mesh.apply_objects([ratings_fault()], run_id="run-7")
    assert str(error.value) == (
        f"the applied resources did not reach every sidecar within 60s (no config change seen "
        f"on {stuck} (2 of 3 changed)); check `istioctl proxy-status` and the istiod logs"
    )
    assert clock.now >= mesh.timeout_s


def test_the_wait_ends_only_when_the_last_sidecar_has_the_change(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    """One proxy gets the push 20 s late: the wait must not end before it has it."""
    late = sorted(name for ns, name in cluster.pods if ns == NS)[-1]
    frozen = pushed_config(cluster, frozen=True)
    live = pushed_config(cluster)
    mesh, clock = make_backend(cluster, fake_client, tmp_path)
    cluster.admin[(NS, late, "config_dump")] = lambda: live() if clock.now >= 20 else frozen()
    mesh.apply_objects([ratings_fault()], run_id="run-7")
    assert 20 <= clock.now <= 20 + mesh.settle_s + 2 * mesh.interval_s


def test_a_sidecar_whose_config_cannot_be_read_is_not_taken_as_changed(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    broken = sorted(name for ns, name in cluster.pods if ns == NS)[0]
    mesh, _clock = make_backend(cluster, fake_client, tmp_path)
    before = mesh._fingerprints(mesh._witnesses([ratings_fault()]))
    cluster.admin[(NS, broken, "config_dump")] = "not json"  # from the write on
    cluster.put_object("virtualservices", ratings_fault())
    with pytest.raises(
        ReadinessTimeout, match=rf"no config change seen on {broken} \(2 of 3 changed; {broken}: "
    ):
        mesh._wait_for_sidecars(mesh._witnesses([ratings_fault()]), before, "the change")


def test_a_spec_that_is_already_in_force_does_not_wait(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    backend.apply_objects([ratings_fault()], run_id="run-7")
    for key in list(cluster.admin):  # from now on, no proxy would show any change
        cluster.admin[key] = pushed_config(cluster, frozen=True)
    again = backend.apply_objects([ratings_fault()], run_id="run-7")
    assert again[0].before is not None


def test_fingerprints_ignore_timestamps_and_secrets() -> None:
    routes = {"@type": "x.RoutesConfigDump", "dynamic_route_configs": [{"last_updated": "1"}]}
    secret = {"@type": "x.SecretsConfigDump", "dynamic_active_secrets": ["a"]}
    same = {"@type": "x.RoutesConfigDump", "dynamic_route_configs": [{"last_updated": "2"}]}
    assert config_fingerprint({"configs": [routes, secret]}) == config_fingerprint(
        {"configs": [same]}
    )
    other = {"@type": "x.RoutesConfigDump", "dynamic_route_configs": [{"name": "r"}]}
    assert config_fingerprint({"configs": [routes]}) != config_fingerprint({"configs": [other]})


# --- one replica fails: Envoy's fault filter on its inbound side ------------------------------


def test_a_replica_fault_is_an_envoy_filter_on_that_pod_only_and_is_removed(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    backend.set_app_settings(pod, {"errorRate": 1.0, "errorStatus": 503, "latency": "250ms"})
    (key,) = [k for k in cluster.objects if k[0] == "envoyfilters"]
    spec = cluster.objects[key]["spec"]
    selector = spec["workloadSelector"]["labels"][REPLICA_FAULT_LABEL]
    labelled = [p for p in backend.pods(NS) if p.labels.get(REPLICA_FAULT_LABEL) == selector]
    assert [p.name for p in labelled] == [pod.name]
    (patch,) = spec["configPatches"]
    assert patch["match"]["context"] == "SIDECAR_INBOUND"
    fault = patch["patch"]["value"]["typed_config"]
    assert fault["abort"] == {
        "http_status": 503,
        "percentage": {"numerator": 1_000_000, "denominator": "MILLION"},
    }
    assert fault["delay"]["fixed_delay"] == "0.250s"
    assert backend.app_settings(pod) == {"errorRate": 1.0, "errorStatus": 503, "latency": "250ms"}

    backend.set_app_settings(pod, {})
    assert not [k for k in cluster.objects if k[0] == "envoyfilters"]
    assert REPLICA_FAULT_LABEL not in backend.pods(NS, "app=ratings")[0].labels
    assert backend.app_settings(pod) == {}


def test_a_replica_fault_waits_until_that_pods_inbound_listener_has_the_new_filter(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    """The filter reaches the pod 5 s late, and new settings 5 s after they are written:
    neither wait ends before the listener Envoy serves carries what was written."""
    mesh, clock = make_backend(cluster, fake_client, tmp_path)
    pod = mesh.pods(NS, "app=ratings")[0]
    live = pushed_config_by_pod(cluster)
    shown = {"dump": live(NS, pod.name), "at": 0.0}

    def late() -> str:  # what the proxy has: the pushed config as it was 5 s ago
        if clock.now >= shown["at"] + 5:
            shown["dump"], shown["at"] = live(NS, pod.name), clock.now
        return shown["dump"]

    cluster.admin[(NS, pod.name, "config_dump")] = late
    mesh.set_app_settings(pod, {"errorRate": 0.5})
    assert clock.now >= 5
    assert "500000" in str(inbound_fault(json.loads(late())))
    started = clock.now
    mesh.set_app_settings(pod, {"errorRate": 1.0})
    assert clock.now >= started + 5
    assert "1000000" in str(inbound_fault(json.loads(late())))
    started = clock.now
    mesh.set_app_settings(pod, {})
    assert clock.now >= started + 5
    assert inbound_fault(json.loads(late())) is None


def test_a_replica_fault_that_never_reaches_the_pod_is_a_timeout_naming_it(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    mesh, clock = make_backend(cluster, fake_client, tmp_path)
    pod = mesh.pods(NS, "app=ratings")[0]
    cluster.admin[(NS, pod.name, "config_dump")] = pushed_config_by_pod(cluster)(NS, pod.name)
    with pytest.raises(ReadinessTimeout) as error:
        mesh.set_app_settings(pod, {"errorRate": 0.5})
    assert str(error.value).startswith(
        f"the sidecar of {NS}/{pod.name} did not have the new replica fault within 60s ("
    )
    assert "last: its inbound fault filter is absent); check `istioctl proxy-status`" in str(
        error.value
    )
    assert clock.now >= mesh.timeout_s


def test_only_an_active_listener_counts_as_having_the_fault() -> None:
    """A listener still warming (``warming_state``) serves nothing yet."""
    upstream = Path(__file__).parents[1] / "data/upstream/istio-1.28.10/istioctl"
    dump = json.loads((upstream / "proxyconfig-config_dump.json").read_text())
    assert inbound_fault(dump) is None  # Istio's own filters, none of chaoskit's
    fault = {"name": "chaoskit.replica_fault", "typed_config": {"abort": {"http_status": 503}}}
    chain = {"filters": [{"name": HCM, "typed_config": {"http_filters": [fault]}}]}
    warming = {"name": "virtualInbound", "warming_state": {"listener": {"filter_chains": [chain]}}}
    listeners = {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"}
    assert inbound_fault({"configs": [{**listeners, "dynamic_listeners": [warming]}]}) is None
    active = {"name": "virtualInbound", "active_state": {"listener": {"filter_chains": [chain]}}}
    found = inbound_fault({"configs": [{**listeners, "dynamic_listeners": [active]}]})
    assert found is not None
    assert json.loads(found) == fault


def test_a_replica_fault_envoy_cannot_make_is_refused(backend: ClusterBackend) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    with pytest.raises(ConfigError, match=r"\['crash'\] cannot be produced"):
        backend.set_app_settings(pod, {"crash": True})


def test_leftover_replica_faults_of_a_crashed_run_are_swept(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    backend.set_app_settings(pod, {"errorRate": 0.5})
    backend._faults.clear()  # the run "crashed": nothing in memory remembers the filter
    assert backend.sweep_replica_faults() == [f"envoyfilter {NS}/chaoskit-replica-fault-{pod.name}"]
    assert not [k for k in cluster.objects if k[0] == "envoyfilters"]


# --- pods and logs ----------------------------------------------------------------------------


def test_a_killed_replica_is_replaced_and_restart_waits_for_it(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    backend.kill_pod(pod)
    names = [p.name for p in backend.pods(NS, "app=ratings")]
    assert pod.name not in names
    assert len(names) == 2  # the ReplicaSet made a new one
    backend.restart_pod(pod)  # returns: two ready again


def test_access_logs_are_read_after_a_mark(backend: ClusterBackend, cluster: FakeApiServer) -> None:
    pod = backend.pods(NS, "app=reviews")[0]
    line = {
        "start_time": "2026-11-25T10:00:00.250Z",
        "response_code": 503,
        "response_flags": "FI",
        "authority": "ratings:9080",
        "upstream_cluster": "outbound|9080||ratings.bookinfo.svc.cluster.local",
        "route_name": "chaoskit-abort-1",
        "attempts": None,
        "duration_ms": 0,
    }
    now = time.time()
    cluster.logs[(NS, pod.name)] = [
        (now - 30, json.dumps({**line, "request_id": "old"})),
        (now - 20, "2026-11-25T10:00:00Z info envoy config: a line that is not JSON"),
    ]
    mark = backend.log_mark(pod)
    cluster.logs[(NS, pod.name)].append(
        (time.time() + 0.001, json.dumps({**line, "request_id": "new"}))
    )
    newest, records = backend.access_log(pod, mark)
    assert [r["request_id"] for r in records] == ["new"]
    (record,) = records
    assert record["direction"] == "outbound"
    assert record["attempts"] == 1
    assert record["response_code"] == 503
    assert newest > mark
    assert backend.access_log(pod, newest)[1] == []
    assert [r["request_id"] for r in backend.access_log(pod, 0)[1]] == ["old", "new"]
    # a mark for a moment (a window's start): pods/log is asked only for what came since
    assert [r["request_id"] for r in backend.access_log(pod, backend.log_mark_at(now - 25))[1]] == [
        "new"
    ]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(now - 25 - 1)))
    assert cluster.log_since[-2:] == [None, stamp]  # the whole log, then only since then


def test_log_lines_are_parsed_with_nanosecond_timestamps() -> None:
    text = (
        '2026-11-25T10:00:01.123456789Z {"response_code": 200, "upstream_cluster": '
        '"inbound|9080||", "start_time": "2026-11-25T10:00:01.100Z", "duration_ms": "12"}\n'
        "garbage\n"
    )
    newest, (record,) = parse_log(text, after=0.0)
    assert record["direction"] == "inbound"
    assert record["duration_ms"] == 12
    assert abs(newest - 1795600801.123456) < 1e-3
    assert abs(record["start_ts"] - 1795600801.1) < 1e-3


def test_istio_version_is_what_istiod_runs(backend: ClusterBackend) -> None:
    assert backend.istio_version == "1.28.10"


def test_only_pods_with_a_proxy_are_the_meshs(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    """Proofs and stats read every mesh pod's Envoy; coredns has none."""
    cluster.add_pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, containers=("coredns",))
    names = {p.name for p in backend.pods()}
    assert not any(n.startswith("coredns") for n in names)
    assert any(n.startswith("ratings-v1") for n in names)


# --- the session on a cluster: the guard, then the same experiment code -----------------------


def settings(tmp_path: Path, **kwargs: Any) -> Settings:
    return Settings(root=tmp_path, namespaces=[NS], **kwargs)


@pytest.fixture
def not_kind(cluster: FakeApiServer, monkeypatch: pytest.MonkeyPatch) -> FakeApiServer:
    """The same cluster, but its nodes are not kind's, and the kubeconfig points at it."""
    cluster.set_nodes("cloud")
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    return cluster


def test_the_session_refuses_a_cluster_that_is_not_kind_and_names_the_override(
    not_kind: FakeApiServer, tmp_path: Path
) -> None:
    cluster = not_kind
    session = ChaosSession(
        settings(tmp_path, backend="kube", kube_context=cluster.context), tmp_path
    )
    with pytest.raises(UnsafeTarget, match="--i-understand-this-is-not-kind"):
        session.backend  # noqa: B018
    kube_without_context = ChaosSession(settings(tmp_path, backend="kube"), tmp_path)
    with pytest.raises(ConfigError, match="--mesh kube needs --kube-context"):
        kube_without_context.backend  # noqa: B018


def test_the_override_lets_a_named_non_kind_context_through(
    not_kind: FakeApiServer, tmp_path: Path
) -> None:
    cluster = not_kind
    session = ChaosSession(
        settings(tmp_path, backend="kube", kube_context=cluster.context, allow_non_kind=True),
        tmp_path,
    )
    try:
        assert session.backend.name == "kube"
        assert "NOT a kind cluster, allowed by --i-understand-this-is-not-kind" in (
            session.guard or ""
        )
        assert session.mesh_description()["guard"] == session.guard
    finally:
        session.close()


def test_an_experiment_on_kind_injects_rolls_back_and_restores_the_cluster(
    cluster: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same Chaos code as on the embedded mesh: a fault goes into the VirtualService in
    force, a replica fault onto one pod; the experiment's rollback and the session's close
    leave the cluster as it was (replicas scaled back too)."""
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    base_vs = ratings_fault()
    base_vs["spec"]["http"][0].pop("fault")
    cluster.put_object("virtualservices", base_vs)
    before = json.dumps(cluster.objects[("virtualservices", NS, "ratings")]["spec"])
    session = ChaosSession(
        settings(
            tmp_path,
            backend="kind",
            kube_context=cluster.context,
            replicas={f"{NS}/ratings-v1": 3},
        ),
        tmp_path,
    )
    try:
        mesh = session.backend
        assert cluster.deployments[(NS, "ratings-v1")]["spec"]["replicas"] == 3
        assert session.mesh_description()["context"] == cluster.context
        record = ExperimentRecord("t", "t", "t.py", "")
        chaos = session.chaos(record)
        chaos.abort("ratings", percent=50)
        chaos.replica_errors("ratings", rate=1.0)
        reviews = mesh.pods(NS, "app=reviews")[0]
        chaos.kill("reviews")
        run = label_safe(session.run_id)
        (replaced, labelled, created, killed) = record.planned_changes
        assert replaced.startswith(
            f"replace virtualservices.networking.istio.io {NS}/ratings (from resourceVersion "
        )
        faulty = [p for p in mesh.pods(NS, "app=ratings") if REPLICA_FAULT_LABEL in p.labels]
        (pod,) = faulty
        assert labelled == (
            f"label pod {NS}/{pod.name} {REPLICA_FAULT_LABEL}={pod.labels[REPLICA_FAULT_LABEL]}"
        )
        assert created == (
            f"create envoyfilters.networking.istio.io {NS}/chaoskit-replica-fault-{pod.name} "
            f"(HTTP 503 on 100% of requests on that pod's inbound side, labelled "
            f"chaoskit.dev/run={run})"
        )
        assert killed == (
            f"delete pod {NS}/{reviews.name} (grace period 0; its ReplicaSet starts a replacement)"
        )
        assert record.to_json()["planned_changes"] == record.planned_changes
        spec = cluster.objects[("virtualservices", NS, "ratings")]["spec"]
        assert spec["http"][0]["fault"]["abort"]["percentage"]["value"] == 50
        assert [k for k in cluster.objects if k[0] == "envoyfilters"]
        session.finish(chaos)
        assert json.dumps(cluster.objects[("virtualservices", NS, "ratings")]["spec"]) == before
        assert not [k for k in cluster.objects if k[0] == "envoyfilters"]
        assert mesh.name == "kind"
    finally:
        session.close()
    assert cluster.deployments[(NS, "ratings-v1")]["spec"]["replicas"] == 2
    assert not list((tmp_path / ".chaoskit" / "journal").glob("*.json"))


# --- the plugin's options, as a user types them --------------------------------------------

PLUGIN_INI = """
[pytest]
addopts = -p no:locust -p no:cacheprovider
chaos_namespaces = bookinfo
"""

EXPERIMENT = '''
def test_abort_is_written_and_rolled_back(chaos, chaos_mesh):
    """The abort lands in the VirtualService in force, on the cluster."""
    chaos.abort("ratings", 503, percent=25)
    (vs,) = [o for o in chaos_mesh.backend.list_objects() if o["kind"] == "VirtualService"]
    assert vs["spec"]["http"][0]["fault"]["abort"]["percentage"]["value"] == 25


def test_my_service_is_not_on_this_cluster(chaos):
    """Needs a workload the cluster does not run."""

test_my_service_is_not_on_this_cluster.pytestmark = [
    __import__("pytest").mark.chaos(needs=["default/my-service"])
]


def test_only_the_embedded_mesh_can_judge_this(chaos):
    """Its checks need what only the embedded mesh's in-mesh client does."""
    raise AssertionError("never runs on a cluster")

test_only_the_embedded_mesh_can_judge_this.pytestmark = [
    __import__("pytest").mark.chaos(embedded_only="fortio does not pass x-request-id on")
]
'''


def test_mesh_kind_runs_experiments_on_the_cluster_and_skips_what_it_lacks(
    cluster: FakeApiServer, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    pytester.makefile(".ini", pytest=PLUGIN_INI)
    pytester.makepyfile(test_cluster=EXPERIMENT)
    report = pytester.path / "report"
    result = pytester.runpytest(
        "--mesh", "kind", "--kube-context", cluster.context, f"--chaos-report={report}", "-rs"
    )
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*the kind mesh does not run default/my-service*"])
    result.stdout.fnmatch_lines(
        [
            "*runs on the embedded mesh only, not on the kind mesh: fortio does not pass "
            "x-request-id on*"
        ]
    )
    result.stdout.fnmatch_lines(
        ["HELD*test_abort_is_written_and_rolled_back*", "*planned: create virtualservices.*"]
    )
    assert ("virtualservices", NS, "ratings") not in cluster.objects  # created, then deleted
    results = json.loads((report / "results.json").read_text())
    run = results["run"]
    planned = {e["name"]: e["planned_changes"] for e in results["experiments"]}
    assert planned["test_abort_is_written_and_rolled_back"] == [
        f"create virtualservices.networking.istio.io {NS}/chaoskit-ratings "
        f"(labelled chaoskit.dev/run={report.name})"
    ]
    assert planned["test_my_service_is_not_on_this_cluster"] == []
    assert planned["test_only_the_embedded_mesh_can_judge_this"] == []
    assert run["mesh"]["backend"] == "kind"
    assert run["mesh"]["istio_version"] == "1.28.10"
    # Each experiment says where it ran, the skipped ones too (the rehearsal compares them).
    assert {e["name"]: e["mesh"] for e in results["experiments"]} == {
        # bookinfo carries no ambient label on this cluster: the sidecar data plane
        name: {"backend": "kind", "context": cluster.context, "dataplane": "sidecar"}
        for name in planned
    }
    assert "kind cluster verified" in run["mesh"]["guard"]


def test_mesh_kube_on_a_cluster_that_is_not_kind_is_refused_with_the_way_out(
    not_kind: FakeApiServer, pytester: pytest.Pytester
) -> None:
    cluster = not_kind
    pytester.makefile(".ini", pytest=PLUGIN_INI)
    pytester.makepyfile(test_cluster=EXPERIMENT)
    refused = pytester.runpytest("--mesh", "kube", "--kube-context", cluster.context)
    assert refused.ret != 0
    refused.stdout.fnmatch_lines(["*--i-understand-this-is-not-kind*"])
    assert cluster.objects == {}  # nothing was touched
    allowed = pytester.runpytest(
        "--mesh",
        "kube",
        "--kube-context",
        cluster.context,
        "--i-understand-this-is-not-kind",
        "-k",
        "abort",
    )
    allowed.assert_outcomes(passed=1)


def test_a_set_reaching_outside_the_blast_radius_is_refused_before_any_write(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    from chaoskit.cluster.backend import BlastRadiusError

    outside = ratings_fault()
    outside["metadata"] = {"name": "ratings", "namespace": "payments"}
    with pytest.raises(BlastRadiusError, match="payments/ratings"):
        backend.apply_objects([ratings_fault(), outside], run_id="run-7")
    assert cluster.objects == {}  # not even the allowed one was written
    backend.apply_objects([ratings_fault()], run_id="run-7")
    assert backend.planned == [
        "create virtualservices.networking.istio.io bookinfo/ratings (labelled chaoskit.dev/run=run-7)"
    ]


def test_a_deletion_waits_for_the_sidecars_too(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    cluster.put_object("virtualservices", ratings_fault())
    for key in list(cluster.pods):  # no proxy will ever show the deletion
        cluster.admin[(*key, "config_dump")] = pushed_config(cluster, frozen=True)
    mesh, clock = make_backend(cluster, fake_client, tmp_path)
    with pytest.raises(ReadinessTimeout, match="the deletion of virtualservices"):
        mesh.delete_object("VirtualService", NS, "ratings")
    assert ("virtualservices", NS, "ratings") not in cluster.objects
    assert clock.now >= mesh.timeout_s


def test_the_session_leaves_another_clusters_journal_alone_and_says_so(
    cluster: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    cluster.put_object("virtualservices", ratings_fault())
    elsewhere = TargetIdentity("kind-other", "https://127.0.0.1:40001", "uid-elsewhere")
    journal = Journal.for_run(tmp_path / ".chaoskit" / "journal", "crashed", elsewhere)
    journal.write([ObjectUndo(ObjectRef("VirtualService", NS, "ratings"), None)])
    session = ChaosSession(
        settings(tmp_path, backend="kind", kube_context=cluster.context), tmp_path
    )
    try:
        session.backend  # noqa: B018
        assert ("virtualservices", NS, "ratings") in cluster.objects  # not "restored" away
        (notice,) = session.mesh_description()["notices"]
        assert notice.startswith(f"journal {journal.path} left in place")
        assert "it was written for context kind-other" in notice
    finally:
        session.close()
    assert journal.path.exists()


def test_an_experiments_rollback_leaves_another_writers_change_and_reset_keeps_it(
    cluster: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    base_vs = ratings_fault()
    base_vs["spec"]["http"][0].pop("fault")
    cluster.put_object("virtualservices", base_vs)
    session = ChaosSession(
        settings(tmp_path, backend="kind", kube_context=cluster.context), tmp_path
    )
    try:
        mesh = session.backend
        chaos = session.chaos(ExperimentRecord("t", "t", "t.py", ""))
        chaos.abort("ratings", percent=50)
        theirs = json.loads(json.dumps(cluster.objects[("virtualservices", NS, "ratings")]))
        theirs["spec"]["http"][0]["timeout"] = "3s"  # somebody else edits it meanwhile
        cluster.put_object("virtualservices", theirs)
        with pytest.raises(
            ConfigError, match="was changed by somebody else after this run's write"
        ):
            session.finish(chaos)
        kept = cluster.objects[("virtualservices", NS, "ratings")]["spec"]["http"][0]
        assert kept["timeout"] == "3s"  # neither rollback nor the session's reset wrote it
        assert kept["fault"]["abort"]["percentage"]["value"] == 50
        assert mesh.left_to_others == {("VirtualService", NS, "ratings")}
    finally:
        session.close()


def test_rolling_back_gateway_bound_objects_waits_on_the_gateway_only(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    """A Gateway and a VirtualService bound to it never reach the sidecars: creating them
    waits on the gateway's proxy, and so must deleting them (it timed out waiting on every
    sidecar for a change that never comes)."""
    cluster.add_deployment("istio-system", "istio-ingressgateway", {"istio": "ingressgateway"})
    for ns, name in list(cluster.pods):
        if ns == NS:  # the sidecars never see gateway-bound config
            cluster.admin[(ns, name, "config_dump")] = pushed_config(cluster, frozen=True)
    gateway = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "shop", "namespace": NS},
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "servers": [
                {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}
            ],
        },
    }
    route = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "shop", "namespace": NS},
        "spec": {
            "hosts": ["*"],
            "gateways": ["shop"],
            "http": [{"route": [{"destination": {"host": "ratings"}}]}],
        },
    }
    mesh, clock = make_backend(cluster, fake_client, tmp_path)
    undos = mesh.apply_objects([gateway, route], run_id="run-7")
    applied = clock.now
    mesh.rollback(undos)
    assert ("virtualservices", NS, "shop") not in cluster.objects
    assert clock.now - applied < mesh.timeout_s


PLANES_EXPERIMENT = """
import pytest


@pytest.mark.dataplanes("sidecar", "ambient")
def test_in_both_planes(chaos, chaos_dataplane):
    assert chaos_dataplane == "ambient"


def test_unmarked(chaos, chaos_dataplane):
    assert chaos_dataplane == "ambient"
"""


def test_a_cluster_runs_one_data_plane_and_skips_the_experiments_other_planes(
    cluster: FakeApiServer, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `kubectl label ns bookinfo istio.io/dataplane-mode=ambient` and `istioctl waypoint
    # apply -n bookinfo --enroll-namespace` leave on the namespace.
    cluster.namespace_labels[NS] = {
        "istio.io/dataplane-mode": "ambient",
        "istio.io/use-waypoint": "waypoint",
    }
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    pytester.makefile(".ini", pytest=PLUGIN_INI)
    pytester.makepyfile(test_planes=PLANES_EXPERIMENT)
    report = pytester.path / "report"
    result = pytester.runpytest(
        "--mesh", "kind", "--kube-context", cluster.context, f"--chaos-report={report}", "-rs"
    )
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(
        ["*the cluster runs the ambient data plane, not sidecar*`chaoskit cluster up`*"]
    )
    results = json.loads((report / "results.json").read_text())
    assert results["run"]["mesh"]["dataplane"] == "ambient"
    outcomes = {e["name"]: (e["outcome"], e["mesh"]["dataplane"]) for e in results["experiments"]}
    assert outcomes == {
        "test_in_both_planes[sidecar]": ("skipped", "sidecar"),
        "test_in_both_planes[ambient]": ("held", "ambient"),
        "test_unmarked": ("held", "ambient"),
    }
