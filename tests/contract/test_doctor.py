"""``chaoskit cluster doctor`` against the fake API server, in both sidecar shapes.

The cluster is what ``cluster up`` builds: the Bookinfo and demo Deployments with pods from
Istio 1.28.10's injector testdata, namespaces labelled for injection, the mesh config
of ``assets/istio-operator.yaml`` in ``istio-system/istio``, sidecars whose ``/stats`` carry
the families the matcher switches on, and JSON access lines in the configured format. Each
failure test then takes one of those away and expects the doctor to name it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.cluster import pins
from chaoskit.cluster.doctor import FAIL, OK, REQUIRED_STATS, Doctor, DoctorTarget, Row, fetch
from chaoskit.kube.client import CONNECT_ATTEMPTS, CONNECT_TIMEOUT_S, KubeClient
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.upstream import (
    SHAPES,
    UPSTREAM,
    ambient_app_pod,
    waypoint_pod,
    ztunnel_daemonset,
)

ACCESS_LOG = UPSTREAM / "envoy" / "access-log"
ACCESS_LINES = (ACCESS_LOG / "chaoskit-format.jsonl").read_text().splitlines()
OMIT = object()
CLUSTERS = (
    "outbound|9080||ratings.bookinfo.svc.cluster.local",
    "outbound|9080||reviews.bookinfo.svc.cluster.local",
    "inbound|9080||",
)
# Counters Envoy keeps per cluster (envoy source/common/upstream/upstream_impl.h
# ALL_CLUSTER_STATS, outlier_detection_impl.h ALL_OUTLIER_DETECTION_STATS), as /stats prints
# them: "name: value".
CLUSTER_COUNTERS = (
    "upstream_rq_total",
    "upstream_rq_5xx",
    "upstream_rq_timeout",
    "upstream_rq_pending_overflow",
    "upstream_cx_connect_fail",
    "outlier_detection.ejections_enforced_total",
)


def stats_text(drop: str = "") -> str:
    lines = [
        "cluster_manager.cds.update_success: 4",
        "server.state: 0",
        *(f"cluster.{c}.{counter}: 0" for c in CLUSTERS for counter in CLUSTER_COUNTERS),
    ]
    return "".join(f"{line}\n" for line in lines if not (drop and drop in line))


def access_line(**overrides: Any) -> str:
    """A line as Envoy writes the format cluster up configures: the first line of
    ``tests/data/upstream/envoy/access-log/chaoskit-format.jsonl`` (typed values, ``null``
    for absent ones); an override of ``OMIT`` leaves the key out."""
    entry: dict[str, Any] = dict(json.loads(ACCESS_LINES[0]))
    entry.update(overrides)
    return json.dumps({k: v for k, v in entry.items() if v is not OMIT})


def mesh_config() -> dict[str, Any]:
    """istio-system/istio as istioctl writes it from assets/istio-operator.yaml."""
    operator = yaml.safe_load(pins.asset("istio-operator.yaml").read_text())
    mesh = yaml.safe_dump(operator["spec"]["meshConfig"])
    return {"apiVersion": "v1", "kind": "ConfigMap", "data": {"mesh": mesh}}


def build_game_day(fake: FakeApiServer, shape: str) -> FakeApiServer:
    """What `cluster up` leaves behind, with sidecars of ``shape``."""
    fake.sidecar_shape = shape
    fake.context = "kind-fake"
    fake.add_deployment("istio-system", "istiod", {"app": "istiod"}, replicas=0)
    image = f"gcr.io/istio-release/pilot:{pins.istio_version()}"
    fake.deployments[("istio-system", "istiod")]["spec"]["template"]["spec"] = {
        "containers": [{"name": "discovery", "image": image}]
    }
    for namespace, names in DoctorTarget().workloads.items():
        fake.namespace_labels[namespace] = {"istio-injection": "enabled"}
        for name in names:
            app = name.rsplit("-", 1)[0] if name[-2:-1] == "v" else name
            replicas = 0 if name == "ratings-faulty" else 1
            fake.add_deployment(namespace, name, {"app": app}, replicas=replicas)
    fake.configmaps[("istio-system", "istio")] = mesh_config()
    fake.admin_default["stats"] = stats_text()
    return fake


@pytest.fixture(params=SHAPES)
def game_day(request: pytest.FixtureRequest, fake: FakeApiServer) -> FakeApiServer:
    return build_game_day(fake, request.param)


class Http:
    """The two published ports: the ingress (productpage) and fortio; every GET recorded."""

    def __init__(self, answers: dict[str, tuple[int, str]] | None = None) -> None:
        self.answers = answers or {
            pins.INGRESS_HTTP: (200, f"<html>{pins.PRODUCTPAGE_TITLE}</html>"),
            pins.FORTIO_URL: (200, "ok"),
        }
        self.urls: list[str] = []

    def __call__(self, url: str, timeout_s: float) -> tuple[int, str]:
        self.urls.append(url)
        for prefix, answer in self.answers.items():
            if url.startswith(prefix):
                return answer
        raise ConnectionRefusedError(f"nothing listens for {url}")


def run(fake: FakeApiServer, http: Http | None = None, **kwargs: Any) -> dict[str, Row]:
    target = DoctorTarget(str(fake.kubeconfig), fake.context, **kwargs)
    rows = Doctor(target, get=http or Http(), sleep=lambda _s: None).run()
    return {row.check: row for row in rows}


def failed(rows: dict[str, Row]) -> list[str]:
    return [name for name, row in rows.items() if row.result == FAIL]


def log_the_request(fake: FakeApiServer) -> None:
    for key in fake.pods:
        fake.logs[key] = [(time.time() - 5, access_line())]


def test_everything_in_place_passes_in_either_sidecar_shape(game_day: FakeApiServer) -> None:
    log_the_request(game_day)
    rows = run(game_day)
    assert failed(rows) == [], rows
    assert list(rows) == [
        "guard",
        "istio version",
        "injection bookinfo",
        "sidecars bookinfo",
        "injection default",
        "sidecars default",
        "proxy stats",
        "ingress",
        "access log",
        "in-mesh client",
    ]
    assert f"{game_day.sidecar_shape} sidecars" in rows["sidecars bookinfo"].found
    # the stats were read through exec in the sidecar container
    assert any(path.endswith("/exec") for _m, path in game_day.log)


def test_a_namespace_without_injection_and_pods_without_a_sidecar_are_named(
    game_day: FakeApiServer,
) -> None:
    game_day.namespace_labels["bookinfo"] = {}
    (key,) = [k for k in game_day.pods if k[1].startswith("details-v1")]
    spec = game_day.pods[key]["spec"]
    spec["containers"] = [c for c in spec["containers"] if c["name"] != "istio-proxy"]
    spec["initContainers"] = [
        c for c in spec.get("initContainers", []) if c["name"] != "istio-proxy"
    ]
    rows = run(game_day)
    assert "injection bookinfo" in failed(rows)
    assert (
        "kubectl label namespace bookinfo istio-injection=enabled" in rows["injection bookinfo"].fix
    )
    sidecars = rows["sidecars bookinfo"]
    assert sidecars.result == FAIL
    assert f"no istio-proxy in {key[1]}" in sidecars.found
    assert rows["sidecars default"].result == OK


def test_a_workload_without_pods_is_named_but_one_scaled_to_zero_is_not(
    game_day: FakeApiServer,
) -> None:
    for key in [k for k in game_day.pods if k[1].startswith("reviews-v2")]:
        del game_day.pods[key]
    rows = run(game_day)
    assert rows["sidecars bookinfo"].found == "no pods of reviews-v2"
    assert "ratings-faulty" not in rows["sidecars bookinfo"].found


@pytest.mark.parametrize("family", sorted(REQUIRED_STATS))
def test_a_stats_family_the_matcher_left_out_is_named(game_day: FakeApiServer, family: str) -> None:
    suffix = REQUIRED_STATS[family].split("\\.")[-1].rstrip("$")
    game_day.admin_default["stats"] = stats_text(drop=suffix)
    rows = run(game_day)
    assert failed(rows) == ["proxy stats"]
    assert f"missing: {family}" in rows["proxy stats"].found
    assert "proxyStatsMatcher" in rows["proxy stats"].fix


def test_text_access_logs_and_missing_fields_are_named(game_day: FakeApiServer) -> None:
    text = '[2026-12-03T09:00:00.250Z] "GET /productpage HTTP/1.1" 200 - via_upstream - "-" 0 5183'
    for key in game_day.pods:
        game_day.logs[key] = [(time.time() - 5, text)]
    rows = run(game_day)
    assert failed(rows) == ["access log"]
    assert "are text, not JSON" in rows["access log"].found
    assert "accessLogEncoding: JSON" in rows["access log"].fix
    for key in game_day.pods:
        game_day.logs[key] = [(time.time() - 5, access_line(request_id=OMIT, attempts=OMIT))]
    rows = run(game_day)
    assert "missing fields: attempts, request_id" in rows["access log"].found


def test_istios_default_json_format_is_named_by_the_fields_it_lacks(
    game_day: FakeApiServer,
) -> None:
    """An accessLogFormat istiod cannot parse gives Istio's own JSON format (null values,
    other keys): the row fails on the parser's fields, not on the nulls."""
    (line,) = (ACCESS_LOG / "istio-default-format.jsonl").read_text().splitlines()
    for key in game_day.pods:
        game_day.logs[key] = [(time.time() - 5, line)]
    rows = run(game_day)
    assert failed(rows) == ["access log"]
    assert rows["access log"].found.endswith("missing fields: attempts, duration_ms")


def test_every_upstream_derived_line_passes_the_access_log_row(game_day: FakeApiServer) -> None:
    """Typed values and nulls (a fault abort without an upstream host, a request without a
    route) are still access lines with every field."""
    for key in game_day.pods:
        game_day.logs[key] = [(time.time() - 5, line) for line in ACCESS_LINES]
    row = run(game_day)["access log"]
    assert row.result == OK, row
    assert row.found.startswith(f"{len(ACCESS_LINES)} JSON access line(s)")


def test_no_request_logged_yet_falls_back_to_the_mesh_config(game_day: FakeApiServer) -> None:
    assert run(game_day)["access log"].result == OK  # the mesh config promises JSON
    game_day.configmaps[("istio-system", "istio")]["data"]["mesh"] = "accessLogFile: /dev/stdout\n"
    row = run(game_day)["access log"]
    assert row.result == FAIL
    assert "encoding (TEXT)" in row.found


def test_the_istio_version_is_compared_with_the_pin(game_day: FakeApiServer) -> None:
    game_day.deployments[("istio-system", "istiod")]["spec"]["template"]["spec"]["containers"][0][
        "image"
    ] = "gcr.io/istio-release/pilot:1.27.3"
    rows = run(game_day)
    assert failed(rows) == ["istio version"]
    assert "pilot:1.27.3" in rows["istio version"].found


def test_a_silent_ingress_and_a_failing_client_are_named(game_day: FakeApiServer) -> None:
    log_the_request(game_day)
    http = Http({pins.FORTIO_URL: (503, "upstream connect error")})
    rows = run(game_day, http)
    assert failed(rows) == ["ingress", "in-mesh client"]
    assert "nothing listens" in rows["ingress"].found
    assert "HTTP 503" in rows["in-mesh client"].found


def test_a_cluster_that_is_not_kind_stops_at_the_guard(game_day: FakeApiServer) -> None:
    game_day.set_nodes("cloud")
    rows = run(game_day)
    assert list(rows) == ["guard"]
    assert "providerID" in rows["guard"].found


def test_a_dead_api_server_is_named_within_seconds(tmp_path: Path, fake: FakeApiServer) -> None:
    """The kubeconfig points at a port nobody listens on (the fake's, after it stopped)."""
    fake.stop()
    rows = run(fake)
    assert list(rows) == ["guard"]
    assert fake.url in rows["guard"].found
    assert "connection refused" in rows["guard"].found
    assert "start the cluster" in rows["guard"].fix


def test_connecting_never_waits_longer_than_the_connect_deadline(fake_client: KubeClient) -> None:
    """A silent address fails at the connect deadline, not the request's (30 s by default)."""
    slow = KubeClient(fake_client.api_client, embedded=False, request_timeout_s=30.0)
    assert slow._timeouts() == (CONNECT_TIMEOUT_S, 30.0)
    retries = fake_client.api_client.configuration.retries
    assert retries.connect + 1 == CONNECT_ATTEMPTS
    assert retries.read == 0  # a server silent past the deadline is named, not asked again
    assert CONNECT_TIMEOUT_S * CONNECT_ATTEMPTS < 10


def test_fetch_reports_a_refused_port_as_oserror() -> None:
    with pytest.raises(OSError, match=r"[Cc]onnection refused"):
        fetch("http://127.0.0.1:1/", 2.0)


def build_ambient_game_day(fake: FakeApiServer) -> FakeApiServer:
    """What `cluster up --ambient` leaves behind: ztunnel, the app namespaces enrolled in
    ambient with a waypoint each, app pods without a sidecar (pods from Istio's own
    rendered manifests: tests/data/upstream/istio-1.30.3/ambient)."""
    build_game_day(fake, "native")
    fake.pods.clear()
    fake.daemonsets[("istio-system", "ztunnel")] = ztunnel_daemonset(desired=1, ready=1)
    for namespace, names in DoctorTarget().workloads.items():
        fake.namespace_labels[namespace] = {
            "istio.io/dataplane-mode": "ambient",
            "istio.io/use-waypoint": "waypoint",
        }
        for name in names:
            deployment = fake.deployments[(namespace, name)]
            labels = dict(deployment["spec"]["selector"]["matchLabels"])
            for _ in range(int(deployment["spec"]["replicas"])):
                fake.add_pod(namespace, name, labels, pod=ambient_app_pod(labels))
        fake.add_pod(namespace, "waypoint", {}, pod=waypoint_pod("waypoint"))
    return fake


def test_ambient_everything_in_place_passes(fake: FakeApiServer) -> None:
    rows = run(build_ambient_game_day(fake), dataplane="ambient")
    assert [r for r in rows.values() if r.result != OK] == []
    assert rows["ztunnel"].found == "DaemonSet istio-system/ztunnel: 1 of 1 node(s) ready"
    assert rows["data plane bookinfo"].found == "ambient, as expected"
    assert "waypoint bookinfo" in rows
    assert "waypoint default" in rows
    assert "no sidecar" in rows["ambient pods bookinfo"].found
    # The stats and access log are read from a waypoint: it holds the L7 policy.
    assert "/waypoint-" in rows["proxy stats"].found


def test_ambient_expected_but_the_cluster_runs_sidecars_says_both_modes(
    game_day: FakeApiServer,
) -> None:
    rows = run(game_day, dataplane="ambient")
    row = rows["data plane bookinfo"]
    assert row.result == FAIL
    assert "runs the sidecar data plane" in row.found
    assert "the experiments expect ambient" in row.found
    assert "cluster up --ambient" in row.found
    assert rows["ztunnel"].result == FAIL  # no ztunnel DaemonSet on a sidecar install
    assert "cluster up --ambient" in rows["ztunnel"].fix


def test_sidecars_expected_but_the_cluster_runs_ambient_says_both_modes(
    fake: FakeApiServer,
) -> None:
    rows = run(build_ambient_game_day(fake))  # the default: the experiments expect sidecars
    row = rows["injection bookinfo"]
    assert row.result == FAIL
    assert "runs the ambient data plane" in row.found
    assert "the experiments expect sidecar" in row.found
    assert "cluster doctor --ambient" in row.found


def test_ambient_without_a_ready_waypoint_or_ztunnel_is_named(fake: FakeApiServer) -> None:
    build_ambient_game_day(fake)
    fake.daemonsets[("istio-system", "ztunnel")] = ztunnel_daemonset(desired=1, ready=0)
    for key in [k for k, pod in fake.pods.items() if k[0] == "default" and "waypoint" in k[1]]:
        del fake.pods[key]
    fake.namespace_labels["bookinfo"].pop("istio.io/use-waypoint")
    rows = run(fake, dataplane="ambient")
    assert rows["ztunnel"].result == FAIL
    assert "0 of 1" in rows["ztunnel"].found
    assert rows["data plane bookinfo"].result == FAIL  # enrolled without a waypoint
    assert "ambient-l4" in rows["data plane bookinfo"].found
    assert "istioctl waypoint apply -n bookinfo" in rows["data plane bookinfo"].found
    assert rows["waypoint default"].result == FAIL
    assert "0 of 0 pod(s)" in rows["waypoint default"].found


def test_an_injected_pod_in_an_ambient_namespace_is_named(fake: FakeApiServer) -> None:
    build_ambient_game_day(fake)
    fake.add_pod("bookinfo", "details-v1", {"app": "details"}, shape="native")
    rows = run(fake, dataplane="ambient")
    row = rows["ambient pods bookinfo"]
    assert row.result == FAIL
    assert "istio-proxy injected in details-v1-" in row.found
    assert "remove istio-injection" in row.fix
