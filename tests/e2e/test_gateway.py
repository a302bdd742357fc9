"""The ingress gateway: Gateway + VirtualService binding, host matching, TLS from a Secret."""

from __future__ import annotations

import requests

from tests.e2e.conftest import MeshHandle
from tests.tls import https_get

GATEWAY = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: demo, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.example.com"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: demo-tls}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api.example.com]
  gateways: [istio-system/demo]
  http:
  - match: [{uri: {prefix: /v1}}]
    rewrite: {uri: /anything}
    route: [{destination: {host: httpbin, port: {number: 8000}}}]
"""


def test_gateway_routes_by_host_and_prefix_with_rewrite(mesh: MeshHandle) -> None:
    mesh.apply(GATEWAY)
    url = mesh.info.ingress_http
    response = requests.get(f"{url}/v1/users", headers={"Host": "api.example.com"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["server"] == "istio-envoy"
    assert response.json()["url"].endswith("/anything/users")
    assert (
        requests.get(f"{url}/v2", headers={"Host": "api.example.com"}, timeout=10).status_code
        == 404
    )
    assert requests.get(f"{url}/v1", headers={"Host": "other.test"}, timeout=10).status_code == 404


def test_gateway_terminates_tls_with_the_credential_secret(mesh: MeshHandle) -> None:
    mesh.apply(GATEWAY)
    assert https_get(mesh.info.ingress_https, "/v1/x", "api.example.com").status == 200


def test_a_virtual_service_bound_only_to_a_gateway_does_not_touch_sidecars(
    mesh: MeshHandle,
) -> None:
    """istio-semantics §3.1: rules bound to a gateway do not apply to mesh traffic."""
    mesh.apply(GATEWAY.replace("hosts: [api.example.com]", "hosts: [api.example.com, httpbin]"))
    assert mesh.fetch("httpbin:8000/v1/x").status_code == 404  # httpbin itself has no /v1
    assert mesh.fetch("httpbin:8000/get").status_code == 200
