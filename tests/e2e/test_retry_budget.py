"""Istio's ``trafficPolicy.retryBudget`` through real sockets: concurrent retries capped.

Istio 1.28 writes the budget into the cluster's circuit-breaker thresholds (istio/istio
``pilot/pkg/networking/core/cluster_traffic_policy.go``, ``applyRetryBudget``, tag 1.28.9:
20 % and 3 unless set). Envoy then allows ``max(budget_percent × (active + pending
requests), min_retry_concurrency)`` retries at once (``source/common/upstream/
resource_manager_impl.h``, ``RetryBudgetImpl::max``) instead of ``max_retries``; a retry
over it is not made: ``upstream_rq_retry_overflow`` and flag UO (``source/common/router/
router.cc``, ``RetryStatus::NoOverflow``).
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import MeshHandle

BACKEND = "cluster.outbound|9080||backend.default.svc.cluster.local."
REQUESTS = 60
ATTEMPTS = 3


def _config(budget: str) -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: backend}}
spec:
  hosts: [backend]
  http:
  - route: [{{destination: {{host: backend}}}}]
    retries: {{attempts: {ATTEMPTS}, retryOn: 5xx}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: backend}}
spec:
  host: backend
  trafficPolicy:
    loadBalancer: {{simple: ROUND_ROBIN}}
    {budget}
"""


def _failing_load(mesh: MeshHandle, budget: str) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Every backend replica answers 503; 60 requests over 12 connections."""
    mesh.apply(_config(budget))
    for pod in mesh.pods("default", "app=backend"):
        mesh.set_settings(pod["metadata"]["name"], {"errorRate": 1.0, "errorStatus": 503})
    fortio = mesh.pod("app=fortio")
    mark = mesh.admin(fortio, "/chaoskit/access_log").json()["last"]
    result = mesh.load("http://backend:9080/", requests=REQUESTS, connections=12)
    assert result["codes"] == {"503": REQUESTS}
    records = mesh.admin(fortio, f"/chaoskit/access_log?since={mark}").json()["records"]
    outbound = [r for r in records if r["direction"] == "outbound"]
    assert len(outbound) == REQUESTS
    return mesh.stats(fortio), outbound


def test_without_a_budget_every_request_is_retried_to_its_limit(mesh: MeshHandle) -> None:
    """The control: max_retries is Istio's 2^32-1, so nothing overflows."""
    stats, records = _failing_load(mesh, "")
    assert stats[BACKEND + "upstream_rq_retry"] == REQUESTS * ATTEMPTS
    assert stats.get(BACKEND + "upstream_rq_retry_overflow", 0) == 0
    assert {r["response_flags"] for r in records} == {"URX"}


def test_a_retry_budget_caps_concurrent_retries_and_counts_the_overflow(
    mesh: MeshHandle,
) -> None:
    """10 % of at most 12 outstanding requests is 1, so minRetryConcurrency 1 allows one
    retry at a time: the others overflow (UO) and are answered at once."""
    stats, records = _failing_load(mesh, "retryBudget: {percent: 10, minRetryConcurrency: 1}")
    overflow = stats[BACKEND + "upstream_rq_retry_overflow"]
    retried = stats[BACKEND + "upstream_rq_retry"]
    assert overflow >= 1
    assert retried < REQUESTS * ATTEMPTS
    # Each request that overflowed ended there, with UO; the others ran out of attempts.
    flagged = [r for r in records if "UO" in r["response_flags"].split(",")]
    assert len(flagged) == overflow
    exhausted = [r for r in records if "URX" in r["response_flags"].split(",")]
    assert len(flagged) + len(exhausted) == REQUESTS
    # No request was cut short by more than it retried: attempts add up to the retries.
    assert sum(r["attempts"] - 1 for r in records) == retried
