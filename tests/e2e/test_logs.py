"""``chaoskit logs``: the router decisions ``proxy-config log --level debug`` turns on are
readable from the pod's sidecar container, not only from a file under the state dir."""

from __future__ import annotations

import math
import subprocess
import sys
import time

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


def test_a_sidecars_log_since_a_moment_leaves_out_the_requests_before_it(
    mesh: MeshHandle,
) -> None:
    """``pods/log`` with ``sinceTime`` (whole seconds, as the API counts them) and
    ``sinceSeconds``, as the cluster backend reads a window's lines."""
    assert mesh.fetch("httpbin:8000/status/201").status_code == 201
    time.sleep(3.1)  # whole seconds after the first request
    moment = time.time()
    assert mesh.fetch("httpbin:8000/status/202").status_code == 202
    fortio = mesh.pod("app=fortio")["metadata"]["name"]
    whole = mesh.client.pod_log("default", fortio, "istio-proxy")
    since = mesh.client.pod_log("default", fortio, "istio-proxy", since_s=moment)
    assert "/status/201" in whole
    assert "/status/202" in whole
    assert "/status/201" not in since
    assert "/status/202" in since
    recent = mesh.client._request(
        "GET",
        f"/api/v1/namespaces/default/pods/{fortio}/log",
        # back to a second before the moment: the second request, not the first
        {"container": "istio-proxy", "sinceSeconds": str(math.ceil(time.time() - moment) + 1)},
        None,
        "application/json",
        "text/plain",
    ).decode()
    assert "/status/202" in recent
    assert "/status/201" not in recent
