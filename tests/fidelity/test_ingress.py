"""The ingress gateway serving Bookinfo and the brief's gateway template as written."""

from __future__ import annotations

import json
import socket
import ssl
from urllib.parse import urlsplit

import pytest
import requests

from tests.fidelity.conftest import Bookinfo


def test_bookinfo_gateway_exposes_what_istios_sample_exposes(bookinfo: Bookinfo) -> None:
    """bookinfo-gateway.yaml: /productpage, /static, /login, /logout, /api/v1/products; not /."""
    url = bookinfo.info.ingress_http
    for path in ("/productpage", "/static/tailwind/tailwind.css", "/api/v1/products"):
        assert requests.get(url + path, timeout=10).status_code == 200, path
    assert requests.get(url + "/logout", allow_redirects=False, timeout=10).status_code == 302
    assert requests.get(url + "/", timeout=10).status_code == 404  # not exposed: 404 NR
    assert requests.get(url + "/health", timeout=10).status_code == 404


def https_get(url: str, path: str, server_name: str | None) -> tuple[int, dict[str, str], bytes]:
    """GET over TLS to the ingress at ``url`` with ``server_name`` as SNI (None: no SNI, as
    a client that dials an IP address does) and as the Host header."""
    address = urlsplit(url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the mesh's self-signed Secret
    raw = socket.create_connection((address.hostname, address.port), timeout=10)
    with context.wrap_socket(raw, server_hostname=server_name) as tls:
        host = server_name or "api.example.com"
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_seed_gateway_template_serves_api_service_over_tls(bookinfo: Bookinfo) -> None:
    """The brief's template 7, unchanged: HTTPS on *.example.com with credentialName
    my-tls-secret (a self-signed Secret of the built-in mesh), /api/v1 → api-service:8080.

    Istio gives the TLS server a filter chain matching server_names ["*.example.com"]
    (https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/ sends
    SNI with ``curl --resolve``): a ClientHello for another name, or with none, finds no
    chain and the connection is refused."""
    bookinfo.apply_file("seed/07-ingress-gateway.yaml")
    url = bookinfo.info.ingress_https
    status, headers, body = https_get(url, "/api/v1/users", "api.example.com")
    assert status == 200
    assert json.loads(body)["service"] == "api-service"
    assert headers["server"] == "istio-envoy"
    assert https_get(url, "/other", "api.example.com")[0] == 404
    for refused in (None, "shop.other.org"):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            https_get(url, "/api/v1/users", refused)
