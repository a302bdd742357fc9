"""``chaoskit cluster doctor`` against the embedded mesh's API server.

The embedded API server serves namespaces and pods, but (today) not everything a kind
cluster has: Deployments, ConfigMaps, ``pods/exec`` and ``pods/log`` may be missing. For
each such row the doctor must either pass (the server has it) or fail naming the API's
404, never crash or pass vacuously; the rows it can always check (the guard,
injection, the sidecars of the workloads, in either shape) must pass.
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
        workloads={"default": WORKLOADS},
        ingress_url=f"{mesh.info.ingress_http}/status/200",
        ingress_expect="",
        client_url="http://127.0.0.1:1",  # nothing listens there: the row must fail
    )
    rows = {r.check: r for r in Doctor(target, sleep=lambda _s: None).run()}
    assert rows["guard"].result == OK
    # No override: the guard knows the embedded mesh by its context and chaoskit:// node.
    assert "embedded mesh verified" in rows["guard"].found
    assert rows["injection default"].result == OK
    sidecars = rows["sidecars default"]
    assert sidecars.result == OK, sidecars
    assert sidecars.found.startswith("6 pod(s) of 4 workloads, ")  # backend-v1 has 3
    # Served or not (a kind cluster has them; this server may not): a pass, or a failure
    # that names the missing API by its 404.
    for check in ("istio version", "proxy stats", "access log"):
        row = rows[check]
        assert row.result == OK or "404" in row.found or check == "proxy stats", row
    # The embedded mesh creates every stat at first use (Envoy creates most cluster stats
    # with the cluster, docs/decisions.md), and its config_dump carries no Envoy bootstrap
    # for the doctor to ask the stats matcher: a stats row that fails must name the families.
    stats = rows["proxy stats"]
    assert stats.result == OK or "; missing: " in stats.found, stats
    assert rows["in-mesh client"].result == FAIL
    assert "Connection refused" in rows["in-mesh client"].found
