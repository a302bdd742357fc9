"""``chaoskit cluster doctor`` against the embedded mesh's API server.

The embedded API server serves namespaces and pods (sidecars in the classic shape) but not
what only a real cluster has: nodes, Deployments, ConfigMaps and ``pods/exec``. The doctor
must say so row by row, by the API's own 404, rather than pass or crash; the rows it can
check (the guard's override, the sidecars of the workloads) must pass.
"""

from __future__ import annotations

from chaoskit.cluster.doctor import FAIL, OK, Doctor, DoctorTarget
from chaoskit.controlplane.server import CONTEXT_NAME
from tests.e2e.conftest import MeshHandle

WORKLOADS = ("fortio", "httpbin-v1", "httpbin-v2", "backend-v1")  # small-mesh.yaml


def test_the_doctor_names_what_the_embedded_api_server_lacks(mesh: MeshHandle) -> None:
    target = DoctorTarget(
        mesh.info.kubeconfig,
        CONTEXT_NAME,
        allow_non_kind=True,  # the embedded mesh has no kind nodes
        workloads={"default": WORKLOADS},
        ingress_url=f"{mesh.info.ingress_http}/status/200",
        ingress_expect="",
        client_url="http://127.0.0.1:1",  # the embedded mesh publishes no fortio port
    )
    rows = {r.check: r for r in Doctor(target, sleep=lambda _s: None).run()}
    assert rows["guard"].result == OK
    assert "allowed by --i-understand-this-is-not-kind" in rows["guard"].found
    assert rows["sidecars default"].result == OK, rows["sidecars default"]
    assert "6 pod(s) of 4 workloads, classic sidecars" in rows["sidecars default"].found
    # What a kind cluster has and this server does not: named, with the API's answer.
    assert rows["istio version"].result == FAIL
    assert "deployments/istiod: 404" in rows["istio version"].found
    assert rows["proxy stats"].result == FAIL
    assert "Handshake status 404" in rows["proxy stats"].found  # no pods/exec
    assert rows["access log"].result == FAIL
    assert "/log: 404" in rows["access log"].found  # pods/log is not served either
    # No Gateway is applied, so the gateway has no listener (as Envoy without one): refused.
    assert rows["ingress"].result == FAIL
    assert "refused" in rows["ingress"].found
    assert rows["in-mesh client"].result == FAIL
