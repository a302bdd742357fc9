"""Route timeouts and retries in the client sidecar (istio-semantics §1.5, §1.6, §7)."""

from __future__ import annotations

from tests.e2e.conftest import MeshHandle

CLUSTER = "cluster.outbound|8000||httpbin.default.svc.cluster.local."


def _vs(extra: str) -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: httpbin}}
spec:
  hosts: [httpbin]
  http:
  - route: [{{destination: {{host: httpbin}}}}]
{extra}
"""


def test_route_timeout_is_504_ut_and_not_retried(mesh: MeshHandle) -> None:
    mesh.apply(_vs("    timeout: 0.2s\n    retries: {attempts: 3, retryOn: 5xx}"))
    fortio = mesh.pod("app=fortio")
    response = mesh.fetch("httpbin:8000/delay/2")
    assert response.status_code == 504
    assert response.text == "upstream request timeout"
    stats = mesh.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_timeout"] == 1
    assert stats.get(CLUSTER + "upstream_rq_retry", 0) == 0
    record = mesh.last_outbound(fortio)
    assert record["response_flags"] == "UT"


def test_retries_on_5xx_make_one_plus_attempts_tries(mesh: MeshHandle) -> None:
    """attempts: 3 → 4 requests upstream, each with x-envoy-attempt-count; final 503 with URX."""
    mesh.apply(_vs("    retries: {attempts: 3, retryOn: 5xx}"))
    fortio = mesh.pod("app=fortio")
    response = mesh.fetch("httpbin:8000/status/503")
    assert response.status_code == 503
    stats = mesh.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_retry"] == 3
    assert stats[CLUSTER + "upstream_rq_total"] == 4
    assert stats[CLUSTER + "upstream_rq_retry_limit_exceeded"] == 1
    record = mesh.last_outbound(fortio)
    assert record["response_flags"] == "URX"
    assert record["attempts"] == 4


def test_default_policy_does_not_retry_503_since_istio_1_24(mesh: MeshHandle) -> None:
    """istio-semantics §1.6: the default retry_on has no 503 since 1.24."""
    fortio = mesh.pod("app=fortio")
    assert mesh.fetch("httpbin:8000/status/503").status_code == 503
    stats = mesh.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_total"] == 1
    assert stats.get(CLUSTER + "upstream_rq_retry", 0) == 0


def test_per_try_timeout_is_retried_under_5xx(mesh: MeshHandle) -> None:
    mesh.apply(_vs("    retries: {attempts: 2, perTryTimeout: 0.1s, retryOn: 5xx}"))
    fortio = mesh.pod("app=fortio")
    response = mesh.fetch("httpbin:8000/delay/2")
    assert response.status_code == 504
    stats = mesh.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_per_try_timeout"] == 3
    assert stats[CLUSTER + "upstream_rq_retry"] == 2


def _outbound_since(mesh: MeshHandle, pod: dict[str, object], mark: int) -> list[dict[str, str]]:
    records = mesh.admin(pod, f"/chaoskit/access_log?since={mark}").json()["records"]
    return [r for r in records if r["direction"] == "outbound"]


def _log_mark(mesh: MeshHandle, pod: dict[str, object]) -> int:
    return int(mesh.admin(pod, "/chaoskit/access_log").json()["last"])


def test_route_timeout_bounds_the_wait_for_a_connection(mesh: MeshHandle) -> None:
    """maxConnections 1, a 0.3 s route timeout, three concurrent calls to a 1 s upstream.

    Envoy arms the route timer before it asks the pool for a connection (envoyproxy/envoy
    source/common/router/router.cc, Filter::onRequestComplete, commit 001b1c0c), so the two
    queued calls time out with the first, never reach httpbin and charge no host. Routed to
    the one v1 replica: a second host could open its own connection.
    """
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin, subset: v1}}]
    timeout: 0.3s
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin}
spec:
  host: httpbin
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 1}}
  subsets:
  - {name: v1, labels: {version: v1}}
""")
    fortio = mesh.pod("app=fortio")
    mark = _log_mark(mesh, fortio)
    result = mesh.load("http://httpbin:8000/delay/1", connections=3, requests=3)
    assert result["codes"] == {"504": 3}
    stats = mesh.stats(fortio)
    v1 = "cluster.outbound|8000|v1|httpbin.default.svc.cluster.local."
    assert stats[v1 + "upstream_rq_timeout"] == 3
    assert stats[v1 + "upstream_rq_total"] == 1
    assert stats[v1 + "upstream_rq_cancelled"] == 2
    outbound = _outbound_since(mesh, fortio, mark)
    assert sorted(r["response_flags"] for r in outbound) == ["UT"] * 3
    assert sum(1 for r in outbound if r["upstream_host"] not in ("", "-", None)) == 1


def test_a_retry_holds_its_breaker_slot_through_the_retried_attempt(mesh: MeshHandle) -> None:
    """maxRetries 1: a retry scheduled while another request's retried attempt is still in
    flight overflows (503 with UO), because Envoy releases the slot only at the next retry
    decision (envoyproxy/envoy source/common/router/retry_state_impl.cc, shouldRetry →
    resetRetry, commit 001b1c0c), not after the backoff.

    httpbin v1 answers 503 after 0.5 s; the second call starts 0.25 s after the first, so
    it decides to retry at 0.75 s, while the first call's retry (0.5 s to about 1 s) runs.
    """
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin, subset: v1}}]
    retries: {attempts: 1, retryOn: 5xx}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin}
spec:
  host: httpbin
  trafficPolicy:
    connectionPool: {http: {maxRetries: 1}}
  subsets:
  - {name: v1, labels: {version: v1}}
""")
    v1_pod = mesh.pod("app=httpbin,version=v1")
    mesh.set_settings(
        v1_pod["metadata"]["name"], {"latency": "500ms", "errorRate": 1.0, "errorStatus": 503}
    )
    fortio = mesh.pod("app=fortio")
    mark = _log_mark(mesh, fortio)
    result = mesh.load("http://httpbin:8000/get", connections=2, requests=2, qps=4)
    assert result["codes"] == {"503": 2}
    stats = mesh.stats(fortio)
    v1 = "cluster.outbound|8000|v1|httpbin.default.svc.cluster.local."
    assert stats[v1 + "upstream_rq_retry"] == 1
    assert stats[v1 + "upstream_rq_retry_overflow"] == 1
    flags = sorted(r["response_flags"] for r in _outbound_since(mesh, fortio, mark))
    assert flags == ["UO", "URX"]
