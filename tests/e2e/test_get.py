"""``chaoskit get svc`` and ``get -o wide`` answer with kubectl's columns."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import MeshHandle


def get(mesh: MeshHandle, *args: str) -> list[list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", "get", *args, "--state-dir", mesh.info.state_dir],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [line.split() for line in done.stdout.splitlines()]


def test_get_svc_lists_the_meshs_services_with_their_ports(mesh: MeshHandle) -> None:
    header, *rows = get(mesh, "svc")
    assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    by_name = {row[0]: row for row in rows}
    assert by_name["httpbin"][1] == "ClusterIP"
    assert by_name["httpbin"][4] == "8000/TCP"
    assert set(by_name) == {"httpbin", "backend", "fortio"}


def test_wide_adds_a_services_selector_and_a_pods_node(mesh: MeshHandle) -> None:
    header, *rows = get(mesh, "services", "-o", "wide")
    assert header[-2:] == ["SELECTOR", "AGE"]
    assert {row[0]: row[-2] for row in rows}["backend"] == "app=backend"
    header, *rows = get(mesh, "pods", "-o", "wide", "-n", "default")
    assert header[5:7] == ["NODE", "NOMINATED"]  # "NOMINATED NODE" splits in two
    assert all(row[5] == "chaoskit-embedded" for row in rows)
