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
    result = mesh.load("http://httpbin:8000/delay/1", connections=3, requests=3)
    assert result["codes"] == {"504": 3}
    stats = mesh.stats(fortio)
    v1 = "cluster.outbound|8000|v1|httpbin.default.svc.cluster.local."
    assert stats[v1 + "upstream_rq_timeout"] == 3
    assert stats[v1 + "upstream_rq_total"] == 1
    assert stats[v1 + "upstream_rq_cancelled"] == 2
    records = mesh.admin(fortio, "/chaoskit/access_log").json()["records"]
    outbound = [r for r in records if r["direction"] == "outbound"]
    assert sorted(r["response_flags"] for r in outbound) == ["UT"] * 3
    assert sum(1 for r in outbound if r["upstream_host"] not in ("", "-", None)) == 1
