"""The ingress gateway serving Bookinfo and the brief's gateway template as written."""

from __future__ import annotations

import json
import ssl

import pytest
import requests

from tests.fidelity.conftest import Bookinfo
from tests.tls import https_get


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
    my-tls-secret (a self-signed Secret of the built-in mesh), /api/v1 → api-service:8080.

    Istio gives the TLS server a filter chain matching server_names ["*.example.com"]
    (https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/ sends
    SNI with ``curl --resolve``): a ClientHello for another name, or with none, finds no
    chain and the connection is refused."""
    bookinfo.apply_file("seed/07-ingress-gateway.yaml")
    url = bookinfo.info.ingress_https
    reply = https_get(url, "/api/v1/users", "api.example.com")
    assert reply.status == 200
    assert json.loads(reply.body)["service"] == "api-service"
    assert reply.headers["server"] == "istio-envoy"
    assert https_get(url, "/other", "api.example.com").status == 404
    for refused in (None, "shop.other.org"):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            https_get(url, "/api/v1/users", refused)
