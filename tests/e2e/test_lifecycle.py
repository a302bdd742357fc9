"""Starting and stopping the mesh: nothing is left behind, crashes are reported."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from chaoskit.controlplane.launcher import MeshProcess, pid_alive
from chaoskit.controlplane.pods import pod_pids
from chaoskit.errors import BackendError
from tests.e2e.conftest import SPEC


def _pod_pids(state_dir: Path) -> list[int]:
    return list(pod_pids(state_dir).values())


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_stopping_the_mesh_leaves_no_process_and_no_port(tmp_path: Path) -> None:
    state = tmp_path / "state"
    mesh = MeshProcess.start(state, spec=SPEC)
    pods = _pod_pids(state)
    assert len(pods) == 7
    ingress = int(mesh.info.ingress_http.rsplit(":", 1)[1])
    api = int(mesh.info.api_server.rsplit(":", 1)[1])
    mesh.stop()
    assert not pid_alive(mesh.process.pid)
    assert [p for p in pods if pid_alive(p)] == []
    assert _port_free(ingress)
    assert _port_free(api)
    assert not (state / "mesh.json").exists()


def test_a_pod_killed_with_its_control_plane_exits_by_itself(tmp_path: Path) -> None:
    """Pods exit when their stdin pipe from the control plane closes, so even SIGKILL of the
    mesh leaks nothing (a dropped push channel alone only makes them reconnect)."""
    state = tmp_path / "state"
    mesh = MeshProcess.start(state, spec=SPEC)
    pods = _pod_pids(state)
    mesh.process.kill()
    mesh.process.wait()
    import time

    deadline = time.monotonic() + 10
    while [p for p in pods if pid_alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in pods if pid_alive(p)] == []


def test_an_app_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        SPEC.read_text().replace("app: {name: echo}", "app: {name: echo, settings: {errorRate: 9}}")
    )
    # The spec load checks every app's settings, so the control plane's log names the
    # workload and field before any pod starts.
    with pytest.raises(BackendError, match=r"\(default/backend-v1\): app.settings: errorRate"):
        MeshProcess.start(tmp_path / "state", spec=spec, timeout_s=30)


def test_a_mesh_whose_starter_dies_stops_with_it(tmp_path: Path) -> None:
    """A test run killed mid-way must not leave a mesh running (non-detached meshes)."""
    import subprocess
    import sys
    import time

    state = tmp_path / "state"
    starter = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; "
         "from chaoskit.controlplane.launcher import MeshProcess; "
         f"MeshProcess.start(Path({str(state)!r}), spec=Path({str(SPEC)!r})); "
         "print('up', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert starter.stdout is not None
    assert starter.stdout.readline().strip() == "up"
    pods = _pod_pids(state)
    assert pods
    starter.kill()
    starter.wait()
    starter.stdout.close()
    deadline = time.monotonic() + 15
    while [p for p in pods if pid_alive(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in pods if pid_alive(p)] == []


def test_mesh_up_fails_naming_the_pod_that_cannot_start(tmp_path: Path) -> None:
    """The gateway cannot bind its host port: mesh up fails, naming that pod and why.

    The built-in spec, because its Bookinfo Gateway makes the gateway listen on the port.
    """
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BackendError) as failure:
            MeshProcess.start(tmp_path / "state", ingress_port=port, timeout_s=60)
    message = str(failure.value)
    assert "pods failed to start: pod istio-system/istio-ingressgateway-" in message
    assert "1 of " in message  # only the gateway
    assert f"127.0.0.1:{port}" in message or "address already in use" in message.lower()
    assert not [p for p in _pod_pids(tmp_path / "state") if pid_alive(p)]
