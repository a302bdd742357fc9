"""Sidecar routing end to end: requests from the fortio pod through its sidecar."""

from __future__ import annotations

from collections import Counter

from tests.e2e.conftest import HTTPBIN_SUBSETS, MeshHandle


def _versions(mesh: MeshHandle, n: int, headers: dict[str, str] | None = None) -> Counter[str]:
    result = mesh.load("http://httpbin:8000/get", requests=n, connections=4, headers=headers or {})
    return Counter(r["headers"].get("x-chaoskit-version", "?") for r in result["results"])


def test_service_without_virtual_service_reaches_every_version(mesh: MeshHandle) -> None:
    """istio-semantics §1.9: with no VirtualService a service's default route spans all pods."""
    seen = mesh.load("http://httpbin:8000/get")["results"][0]
    assert seen["status"] == 200
    # Envoy's headers on a response through the client sidecar (istio-semantics §4.4).
    assert seen["headers"]["server"] == "envoy"
    assert "x-envoy-upstream-service-time" in seen["headers"]
    assert set(_versions(mesh, 60)) == {"v1", "v2"}


def test_header_match_routes_to_a_subset_and_the_rest_falls_through(mesh: MeshHandle) -> None:
    """Istio request-routing task: end-user jason → v2, everybody else → v1."""
    mesh.apply(
        HTTPBIN_SUBSETS
        + """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: httpbin, subset: v2}}]
  - route: [{destination: {host: httpbin, subset: v1}}]
"""
    )
    assert _versions(mesh, 30, {"end-user": "jason"}) == {"v2": 30}
    assert _versions(mesh, 30, {"end-user": "alice"}) == {"v1": 30}
    assert _versions(mesh, 30) == {"v1": 30}


def test_unmatched_request_is_404_with_flag_nr(mesh: MeshHandle) -> None:
    """istio-semantics §1.9: a VS whose rules do not match gives Envoy's 404 NR."""
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - match: [{uri: {prefix: /status}}]
    route: [{destination: {host: httpbin}}]
""")
    assert mesh.fetch("httpbin:8000/status/200").status_code == 200
    assert mesh.fetch("httpbin:8000/get").status_code == 404
    last = mesh.last_outbound(mesh.pod("app=fortio"))
    assert (last["response_code"], last["response_flags"]) == (404, "NR")


def test_route_to_an_undefined_subset_is_503_nc(mesh: MeshHandle) -> None:
    """istio-semantics §1.4: a subset no DestinationRule defines has no cluster: 503 NC."""
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin, subset: v9}}]
""")
    assert mesh.fetch("httpbin:8000/get").status_code == 503
    assert mesh.last_outbound(mesh.pod("app=fortio"))["response_flags"] == "NC"


def test_weighted_split_follows_the_weights(mesh: MeshHandle) -> None:
    """Istio traffic-shifting task (80/20): per-request draws, so counts are binomial.

    With n=400 and p=0.8 the v1 count has sd 8; 320 ± 48 is a 6-sigma band.
    """
    mesh.apply(
        HTTPBIN_SUBSETS
        + """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - route:
    - {destination: {host: httpbin, subset: v1}, weight: 80}
    - {destination: {host: httpbin, subset: v2}, weight: 20}
"""
    )
    counts = _versions(mesh, 400)
    assert counts["v1"] + counts["v2"] == 400
    assert 272 <= counts["v1"] <= 368
