"""``chaoskit analyze`` sees the running mesh, like ``istioctl analyze`` sees its cluster:
the files overlaid on the live config, Secrets made with ``chaoskit secret create``, and
the live config alone when no file is given."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import HTTPBIN_SUBSETS, MeshHandle

WRONG_SUBSET = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin, subset: v9}}]
"""

GATEWAY = """apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: CREDENTIAL}
"""


def chaoskit(state_dir: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", *args, "--state-dir", state_dir],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_file_is_judged_against_the_live_destination_rules(
    mesh: MeshHandle, tmp_path: Path
) -> None:
    mesh.apply(HTTPBIN_SUBSETS)
    path = tmp_path / "vs.yaml"
    path.write_text(WRONG_SUBSET)
    result = chaoskit(mesh.info.state_dir, "analyze", str(path))
    assert result.returncode == 79, result.stdout + result.stderr
    assert 'Referenced host+subset in destinationrule not found: "httpbin+v9"' in result.stdout
    assert "DestinationRules for httpbin define subsets ['v1', 'v2']" in result.stdout


def test_no_files_analyzes_the_live_config(mesh: MeshHandle) -> None:
    mesh.apply(HTTPBIN_SUBSETS + "---\n" + WRONG_SUBSET)
    result = chaoskit(mesh.info.state_dir, "analyze")
    assert result.returncode == 79, result.stdout + result.stderr
    assert "(VirtualService default/httpbin live mesh" in result.stdout


def test_a_secret_created_on_the_mesh_is_known(mesh: MeshHandle, tmp_path: Path) -> None:
    name = f"shop-tls-{secrets.token_hex(3)}"
    path = tmp_path / "gateway.yaml"
    path.write_text(GATEWAY.replace("CREDENTIAL", name))
    before = chaoskit(mesh.info.state_dir, "analyze", str(path))
    assert f'Referenced credentialName not found: "{name}"' in before.stdout
    created = chaoskit(mesh.info.state_dir, "secret", "create", name, "--host", "shop.example.com")
    assert created.returncode == 0, created.stderr
    try:
        after = chaoskit(mesh.info.state_dir, "analyze", str(path))
        assert after.returncode == 0, after.stdout + after.stderr
        assert "credentialName" not in after.stdout
    finally:  # the mesh is shared: later tests see istio-system's Secrets
        mesh.client.call("DELETE", f"/api/v1/namespaces/istio-system/secrets/{name}")


def test_no_files_and_no_mesh_says_what_to_do(tmp_path: Path) -> None:
    result = chaoskit(str(tmp_path / "nothing"), "analyze")
    assert result.returncode == 1
    assert "no files given and no embedded mesh is running" in result.stderr


def test_a_file_resource_with_a_schema_error_is_still_analyzed_on_a_live_mesh(
    mesh: MeshHandle, tmp_path: Path
) -> None:
    """istioctl's file source stores resources without validating them, so a resource that
    earns IST0106 is still seen by the other analyzers; the live overlay keeps that."""
    mesh.apply(HTTPBIN_SUBSETS)
    path = tmp_path / "vs.yaml"
    # ``retries.attempts: -1`` is a schema error (IST0106); the missing subset is IST0101.
    path.write_text(WRONG_SUBSET.replace("  - route:", "  - retries: {attempts: -1}\n    route:"))
    result = chaoskit(mesh.info.state_dir, "analyze", str(path))
    assert result.returncode == 79, result.stdout + result.stderr
    assert "IST0106" in result.stdout, result.stdout
    assert 'destinationrule not found: "httpbin+v9"' in result.stdout, result.stdout
