"""The ingress gateway serving Bookinfo and the brief's gateway template as written."""

from __future__ import annotations

import requests
import urllib3

from tests.fidelity.conftest import Bookinfo


def test_bookinfo_gateway_exposes_what_istios_sample_exposes(bookinfo: Bookinfo) -> None:
    """bookinfo-gateway.yaml: /productpage, /static, /login, /logout, /api/v1/products; not /."""
    url = bookinfo.info.ingress_http
    for path in ("/productpage", "/static/tailwind/tailwind.css", "/api/v1/products"):
        assert requests.get(url + path, timeout=10).status_code == 200, path
    assert requests.get(url + "/logout", allow_redirects=False, timeout=10).status_code == 302
    assert requests.get(url + "/", timeout=10).status_code == 404  # not exposed: 404 NR
    assert requests.get(url + "/health", timeout=10).status_code == 404


def test_seed_gateway_template_serves_api_service_over_tls(bookinfo: Bookinfo) -> None:
    """The brief's template 7, unchanged: HTTPS on *.example.com with credentialName
    my-tls-secret (a self-signed Secret of the built-in mesh), /api/v1 → api-service:8080."""
    bookinfo.apply_file("seed/07-ingress-gateway.yaml")
    urllib3.disable_warnings()
    url = bookinfo.info.ingress_https
    response = requests.get(
        f"{url}/api/v1/users", headers={"Host": "api.example.com"}, verify=False, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["service"] == "api-service"
    assert response.headers["server"] == "istio-envoy"
    other = requests.get(
        f"{url}/other", headers={"Host": "api.example.com"}, verify=False, timeout=10
    )
    assert other.status_code == 404
