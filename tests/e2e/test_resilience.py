"""Circuit breaking, outlier detection, killed pods and mirroring, end to end."""

from __future__ import annotations

import time

from chaoskit.topology.host_ports import pod_address
from tests.e2e.conftest import HTTPBIN_MIRROR, MeshHandle

BACKEND = "cluster.outbound|9080||backend.default.svc.cluster.local."


def test_circuit_breaker_overflow_is_503_uo_with_x_envoy_overloaded(mesh: MeshHandle) -> None:
    """Istio circuit-breaking task: maxConnections 1, http1MaxPendingRequests 1, 3 connections.

    Overflows are local 503s with ``x-envoy-overloaded: true``, counted in
    ``upstream_rq_pending_overflow``, never retried, never seen by httpbin.
    """
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin}
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
""")
    result = mesh.load("http://httpbin:8000/delay/0.05", connections=3, requests=30)
    overflowed = [r for r in result["results"] if r["status"] == 503]
    assert overflowed, result["codes"]
    assert all(r["headers"].get("x-envoy-overloaded") == "true" for r in overflowed)
    stats = mesh.stats(mesh.pod("app=fortio"))
    cluster = "cluster.outbound|8000||httpbin.default.svc.cluster.local."
    assert stats[cluster + "upstream_rq_pending_overflow"] == len(overflowed)
    assert stats[cluster + "upstream_rq_total"] == 30 - len(overflowed)


def _outlier_dr(max_ejection_percent: int | None) -> str:
    cap = f", maxEjectionPercent: {max_ejection_percent}" if max_ejection_percent else ""
    return f"""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: backend}}
spec:
  host: backend
  trafficPolicy:
    outlierDetection: {{consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s{cap}}}
"""


def _failing_backend(mesh: MeshHandle) -> dict[str, object]:
    pod = mesh.pod("app=backend")
    mesh.set_settings(pod["metadata"]["name"], {"errorRate": 1.0, "errorStatus": 500})
    return pod


def test_a_failing_host_is_ejected_and_gets_no_more_traffic(mesh: MeshHandle) -> None:
    """consecutive5xxErrors: 3 ejects the failing replica at its 3rd consecutive 5xx."""
    mesh.apply(_outlier_dr(100))
    bad = _failing_backend(mesh)
    bad_address = pod_address(bad, 9080)  # type: ignore[arg-type]
    result = mesh.load("http://backend:9080/", requests=90, connections=1)
    assert result["codes"].get("500", 0) == 3
    fortio = mesh.pod("app=fortio")
    assert mesh.stats(fortio)[BACKEND + "outlier_detection.ejections_enforced_consecutive_5xx"] == 1
    endpoints = mesh.admin(fortio, "/clusters").text
    assert (
        f"backend.default.svc.cluster.local::{bad_address}::health_flags::/failed_outlier_check"
        in endpoints
    )


def test_default_max_ejection_percent_never_ejects_from_three_hosts(mesh: MeshHandle) -> None:
    """Envoy ≥1.28: with maxEjectionPercent 10 % no host of a 3-host cluster is ejected."""
    mesh.apply(_outlier_dr(None))
    _failing_backend(mesh)
    result = mesh.load("http://backend:9080/", requests=60, connections=1)
    # Binomial(60, 1/3): mean 20, sd 3.7; 5..35 is a 4-sigma band.
    assert 5 <= result["codes"].get("500", 0) <= 35
    stats = mesh.stats(mesh.pod("app=fortio"))
    assert stats.get(BACKEND + "outlier_detection.ejections_enforced_total", 0) == 0
    assert stats[BACKEND + "outlier_detection.ejections_overflow"] >= 1


def test_all_hosts_ejected_is_503_uh_no_healthy_upstream(mesh: MeshHandle) -> None:
    """istio-semantics §2.4: panic threshold 0, so with every host ejected: 503 UH."""
    mesh.apply(_outlier_dr(100))
    for pod in mesh.pods("default", "app=backend"):
        mesh.set_settings(pod["metadata"]["name"], {"errorRate": 1.0})
    mesh.load("http://backend:9080/", requests=30, connections=1)
    response = mesh.fetch("backend:9080/")
    assert response.status_code == 503
    assert response.text == "no healthy upstream"


def test_a_killed_replica_refuses_connections_and_default_retries_hide_it(mesh: MeshHandle) -> None:
    """A SIGKILLed pod refuses connections (UF); the default policy retries connect-failure."""
    victim = mesh.pod("app=backend")
    meta = victim["metadata"]
    mesh.client.kill_pod(meta["namespace"], meta["name"])
    result = mesh.load("http://backend:9080/", requests=60, connections=2)
    assert result["codes"] == {"200": 60}
    stats = mesh.stats(mesh.pod("app=fortio"))
    assert stats[BACKEND + "upstream_cx_connect_fail"] >= 1
    assert stats[BACKEND + "upstream_rq_retry"] >= 1
    restarted = mesh.client.restart_pod(meta["namespace"], meta["name"])
    assert restarted["status"]["phase"] == "Running"
    assert restarted["status"]["containerStatuses"][0]["restartCount"] == 1


def test_mirror_sends_a_copy_and_the_client_sees_only_the_primary(mesh: MeshHandle) -> None:
    """Istio mirroring task: every request also reaches v2; the client sees v1 only."""
    mesh.apply(HTTPBIN_MIRROR)
    v2 = mesh.pod("app=httpbin,version=v2")
    mark = mesh.admin(v2, "/chaoskit/access_log").json()["last"]
    result = mesh.load("http://httpbin:8000/headers", requests=10)
    assert {r["headers"]["x-chaoskit-version"] for r in result["results"]} == {"v1"}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if mesh.stats(v2).get("cluster.inbound|8080||.upstream_rq_total", 0) >= 10:
            break
        time.sleep(0.05)
    assert mesh.stats(v2)["cluster.inbound|8080||.upstream_rq_total"] == 10
    # Istio 1.28 no longer adds the -shadow suffix (istio-semantics §1.8).
    records = mesh.admin(v2, f"/chaoskit/access_log?since={mark}").json()["records"]
    inbound = [r for r in records if r["direction"] == "inbound"]
    assert {r["authority"] for r in inbound} == {"httpbin:8000"}


def test_split_local_origin_errors_keep_timeouts_out_of_consecutive_5xx(mesh: MeshHandle) -> None:
    """splitExternalLocalOriginErrors: timeouts count as local-origin failures, not 5xx.

    Istio passes the split and consecutiveLocalOriginFailures to Envoy (istio/istio
    pilot/pkg/networking/core/cluster_traffic_policy.go, applyOutlierDetection, tag 1.28.9).
    Three route timeouts against consecutive5xxErrors 2 eject nothing.
    """
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin, subset: v1}}]
    timeout: 0.1s
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin}
spec:
  host: httpbin
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 2
      splitExternalLocalOriginErrors: true
      consecutiveLocalOriginFailures: 100
      interval: 1s
      baseEjectionTime: 30s
      maxEjectionPercent: 100
  subsets:
  - {name: v1, labels: {version: v1}}
""")
    fortio = mesh.pod("app=fortio")
    for _ in range(3):
        assert mesh.fetch("httpbin:8000/delay/1").status_code == 504
    stats = mesh.stats(fortio)
    v1 = "cluster.outbound|8000|v1|httpbin.default.svc.cluster.local."
    assert stats[v1 + "upstream_rq_timeout"] == 3
    assert stats.get(v1 + "outlier_detection.ejections_enforced_total", 0) == 0
    assert stats[v1 + "outlier_detection.ejections_active"] == 0
