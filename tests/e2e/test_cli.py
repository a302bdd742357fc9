"""The command line against a running embedded mesh, including the seed's debug commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import MeshHandle
from tests.tls import https_get

VS = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin}}]
    timeout: 3s
"""


def chaoskit(mesh: MeshHandle, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", *args, "--state-dir", mesh.info.state_dir],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_apply_waits_for_every_proxy_and_get_lists_it(mesh: MeshHandle, tmp_path: Path) -> None:
    path = tmp_path / "vs.yaml"
    path.write_text(VS)
    applied = chaoskit(mesh, "apply", "-f", str(path))
    assert applied.returncode == 0, applied.stderr
    assert "virtualservices.networking.istio.io/httpbin created" in applied.stdout
    assert "acknowledged by 7 proxies" in applied.stdout
    again = chaoskit(mesh, "apply", "-f", str(path))
    assert "httpbin unchanged" in again.stdout
    listed = chaoskit(mesh, "get", "vs")
    assert "httpbin" in listed.stdout
    assert '["httpbin"]' in listed.stdout
    deleted = chaoskit(mesh, "delete", "-f", str(path))
    assert "httpbin deleted" in deleted.stdout


def test_apply_refuses_an_invalid_file_with_its_location(mesh: MeshHandle, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(VS.replace("timeout: 3s", "timeout: 3 s"))
    result = chaoskit(mesh, "apply", "-f", str(path))
    assert result.returncode != 0
    assert f"{path}:8" in result.stderr
    assert "spec.http[0].timeout" in result.stderr
    assert mesh.client.list_resources("virtualservices", "default") == []


def test_seed_debug_commands(mesh: MeshHandle, tmp_path: Path) -> None:
    """The brief's debug commands, with ``chaoskit`` for ``istioctl``."""
    path = tmp_path / "vs.yaml"
    path.write_text(VS)
    chaoskit(mesh, "apply", "-f", str(path))
    routes = chaoskit(mesh, "proxy-config", "routes", "deploy/fortio", "-o", "json")
    assert routes.returncode == 0, routes.stderr
    configs = json.loads(routes.stdout)
    vhost = next(
        v for c in configs for v in c["virtualHosts"] if v["name"].startswith("httpbin.default")
    )
    assert vhost["routes"][0]["route"]["timeout"] == "3s"  # Envoy's RouteConfiguration JSON
    table = chaoskit(mesh, "proxy-config", "routes", "deploy/fortio")
    assert "httpbin.default.svc.cluster.local:8000" in table.stdout
    assert "httpbin.default" in table.stdout
    endpoints = chaoskit(mesh, "proxy-config", "endpoints", "deploy/fortio")
    assert "ENDPOINT" in endpoints.stdout
    assert "HEALTHY     OK" in endpoints.stdout
    log = chaoskit(mesh, "proxy-config", "log", "deploy/fortio", "--level", "debug")
    assert "router: debug" in log.stdout
    clusters = chaoskit(mesh, "proxy-config", "clusters", "deploy/fortio")
    assert "outbound" in clusters.stdout
    status = chaoskit(mesh, "proxy-status")
    assert status.stdout.count("SYNCED") == 7 * 4


def test_secret_create_gives_a_gateway_its_certificate(mesh: MeshHandle) -> None:
    """A self-signed Secret made by the CLI serves a Gateway's credentialName."""
    created = chaoskit(mesh, "secret", "create", "shop-tls", "--host", "shop.test")
    assert created.returncode == 0, created.stderr
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.test]
    tls: {mode: SIMPLE, credentialName: shop-tls}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop}
spec:
  hosts: [shop.test]
  gateways: [istio-system/shop]
  http:
  - route: [{destination: {host: httpbin}}]
""")
    assert https_get(mesh.info.ingress_https, "/get", "shop.test").status == 200
    mesh.client.call("DELETE", "/api/v1/namespaces/istio-system/secrets/shop-tls")
