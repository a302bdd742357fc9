"""Fault injection in the caller's sidecar (istio-semantics §1.7)."""

from __future__ import annotations

from tests.e2e.conftest import MeshHandle


def _fault_vs(fault: str) -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: httpbin}}
spec:
  hosts: [httpbin]
  http:
  - fault:
{fault}
    route: [{{destination: {{host: httpbin}}}}]
"""


def _inbound_total(mesh: MeshHandle) -> int:
    return sum(
        mesh.stats(pod).get("cluster.inbound|8080||.upstream_rq_total", 0)
        for pod in mesh.pods("default", "app=httpbin")
    )


def test_abort_answers_locally_never_reaches_the_server_and_is_not_retried(
    mesh: MeshHandle,
) -> None:
    """An injected abort is returned by the client sidecar (FI) and never retried."""
    mesh.apply(_fault_vs("      abort: {httpStatus: 503, percentage: {value: 100}}"))
    before = _inbound_total(mesh)
    fortio = mesh.pod("app=fortio")
    response = mesh.fetch("httpbin:8000/get")
    assert response.status_code == 503
    assert response.text == "fault filter abort"
    assert _inbound_total(mesh) == before
    stats = mesh.stats(fortio)
    assert stats["http.outbound_0.0.0.0_8000.fault.aborts_injected"] == 1
    assert (
        stats.get("cluster.outbound|8000||httpbin.default.svc.cluster.local.upstream_rq_retry", 0)
        == 0
    )
    record = mesh.last_outbound(fortio)
    assert (record["response_flags"], record["response_code_details"]) == (
        "FI",
        "fault_filter_abort",
    )


def test_delay_holds_the_request_and_sets_di(mesh: MeshHandle) -> None:
    mesh.apply(_fault_vs("      delay: {fixedDelay: 300ms, percentage: {value: 100}}"))
    result = mesh.load("http://httpbin:8000/get", requests=5)
    assert result["codes"] == {"200": 5}
    # The delay is a floor on every request's latency (it is held that long before routing).
    assert min(r["latency"] for r in result["results"]) >= 0.3
    fortio = mesh.pod("app=fortio")
    assert mesh.stats(fortio)["http.outbound_0.0.0.0_8000.fault.delays_injected"] == 5
    assert mesh.last_outbound(fortio)["response_flags"] == "DI"


def test_a_fault_without_percentage_injects_nothing(mesh: MeshHandle) -> None:
    """istio-semantics §1.7: absent percentage (and percent) means 0 %."""
    mesh.apply(_fault_vs("      abort: {httpStatus: 500}"))
    result = mesh.load("http://httpbin:8000/get", requests=20)
    assert result["codes"] == {"200": 20}


def test_abort_percentage_is_a_per_request_draw(mesh: MeshHandle) -> None:
    """50 % of 400 requests: the abort count is Binomial(400, 0.5), sd 10; 200 ± 60 is 6 sd."""
    mesh.apply(_fault_vs("      abort: {httpStatus: 500, percentage: {value: 50}}"))
    result = mesh.load("http://httpbin:8000/get", requests=400, connections=8)
    assert 140 <= result["codes"].get("500", 0) <= 260
