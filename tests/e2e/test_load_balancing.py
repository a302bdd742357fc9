"""Load-balancer policies from DestinationRules (istio-semantics §2.2)."""

from __future__ import annotations

from collections import Counter

from tests.e2e.conftest import MeshHandle


def _dr(lb: str) -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: backend}}
spec:
  host: backend
  trafficPolicy:
    loadBalancer: {lb}
"""


def _pods(mesh: MeshHandle, n: int, headers: dict[str, str] | None = None) -> Counter[str]:
    result = mesh.load("http://backend:9080/", requests=n, headers=headers or {})
    return Counter(r["headers"]["x-chaoskit-pod"] for r in result["results"])


def test_round_robin_cycles_through_the_hosts(mesh: MeshHandle) -> None:
    """Envoy's round robin with equal weights visits each host in turn."""
    mesh.apply(_dr("{simple: ROUND_ROBIN}"))
    counts = _pods(mesh, 30)
    assert sorted(counts.values()) == [10, 10, 10]


def test_consistent_hash_on_a_header_is_sticky_per_key(mesh: MeshHandle) -> None:
    mesh.apply(_dr("{consistentHash: {httpHeaderName: x-user}}"))
    for user in ("alice", "bob", "carol"):
        assert len(_pods(mesh, 20, {"x-user": user})) == 1
    owners = {next(iter(_pods(mesh, 1, {"x-user": f"user-{i}"}))) for i in range(30)}
    assert len(owners) > 1  # 30 keys do not all land on one of three hosts
