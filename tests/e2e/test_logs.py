"""``chaoskit logs``: the router decisions ``proxy-config log --level debug`` turns on are
readable from the pod's sidecar container, not only from a file under the state dir."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import MeshHandle


def chaoskit(mesh: MeshHandle, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", *args, "--state-dir", mesh.info.state_dir],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_sidecars_debug_lines_are_in_its_container_log(mesh: MeshHandle) -> None:
    level = chaoskit(mesh, "proxy-config", "log", "deploy/fortio", "--level", "debug")
    assert level.returncode == 0, level.stderr
    try:
        assert mesh.fetch("httpbin:8000/status/200").status_code == 200
    finally:
        chaoskit(mesh, "proxy-config", "log", "deploy/fortio", "--level", "info")
    sidecar = chaoskit(mesh, "logs", "deploy/fortio", "-c", "istio-proxy")
    assert sidecar.returncode == 0, sidecar.stderr
    routed = [line for line in sidecar.stdout.splitlines() if "httpbin:8000/status/200" in line]
    assert routed, sidecar.stdout[-2000:]
    assert routed[-1].startswith("[debug][router] outbound GET")
    assert "status=200" in routed[-1]
    last = chaoskit(mesh, "logs", "deploy/fortio", "-c", "istio-proxy", "--tail", "1")
    assert last.stdout.count("\n") == 1
    app = chaoskit(mesh, "logs", "deploy/fortio")  # the app's container by default
    assert app.returncode == 0, app.stderr
    assert "[debug][router]" not in app.stdout


def test_an_unknown_container_names_the_pods_containers(mesh: MeshHandle) -> None:
    result = chaoskit(mesh, "logs", "deploy/fortio", "-c", "envoy")
    assert result.returncode == 1
    assert "container 'envoy' is not in pod fortio-" in result.stderr
    assert "its containers: fortio, istio-proxy" in result.stderr
