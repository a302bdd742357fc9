"""``chaoskit cluster doctor --kube-context chaoskit-embedded`` on a running embedded mesh.

The embedded mesh answers every row as a game-day cluster would: istiod's Deployment with
the emulated release, both sidecar shapes, per-cluster stats that exist from the cluster's
creation (and the bootstrap's stats matcher for those Envoy creates at first use), typed
JSON access lines, the ingress and its fortio client. So on a fresh mesh the command exits 0
in either shape; a workload without a sidecar, or access logs switched to text through the
``istio`` ConfigMap, fail their row by name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from chaoskit.cluster import pins
from chaoskit.cluster.doctor import FAIL, OK, Doctor
from chaoskit.cluster.doctor_embedded import embedded_target
from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.controlplane.server import CONTEXT_NAME
from chaoskit.experiment.session import derive_spec
from chaoskit.kube.client import KubeClient

DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "chaoskit" / "topology" / "default-mesh.yaml"
MESH_CONFIG = "/api/v1/namespaces/istio-system/configmaps/istio"


class Mesh:
    """The root conftest's handle for a mesh this module starts (nothing to close)."""

    def __init__(self, process: MeshProcess) -> None:
        self.info = process.info

    def close(self) -> None:
        pass


def _classic_spec(directory: Path) -> Path:
    """The built-in Bookinfo mesh with istio-proxy among the containers (classic shape)."""
    spec = yaml.safe_load(DEFAULT_SPEC.read_text())
    spec["spec"]["sidecarInjection"] = "classic"
    spec["spec"]["resources"] = [
        str((DEFAULT_SPEC.parent / entry).resolve()) for entry in spec["spec"]["resources"]
    ]
    path = directory / "classic-mesh.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="module", params=["native", "classic"])
def bookinfo(
    request: pytest.FixtureRequest, embedded_mesh: object, tmp_path_factory: pytest.TempPathFactory
) -> Mesh:
    spec = None if request.param == "native" else _classic_spec(tmp_path_factory.mktemp("spec"))
    mesh: Mesh = embedded_mesh(Mesh, spec=spec, seed=3)  # type: ignore[operator]
    return mesh


@pytest.fixture(scope="module")
def native_bookinfo(embedded_mesh: object) -> Mesh:
    """The native-shape mesh of ``bookinfo`` (the same process: same spec and seed)."""
    mesh: Mesh = embedded_mesh(Mesh, spec=None, seed=3)  # type: ignore[operator]
    return mesh


def doctor_cli(process: Mesh) -> subprocess.CompletedProcess[str]:
    """The command as a user types it; the mesh's kubeconfig sits beside its mesh.json."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "chaoskit.cli",
            "cluster",
            "doctor",
            "--kube-context",
            CONTEXT_NAME,
            "--kubeconfig",
            process.info.kubeconfig,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CHAOSKIT_HOME": str(Path(process.info.state_dir).parent)},
    )


def rows(output: str) -> dict[str, str]:
    """CHECK → RESULT from the printed table (columns are two or more spaces apart)."""
    found = {}
    for line in output.splitlines()[1:]:
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) >= 2 and parts[1] in (OK, FAIL):
            found[parts[0]] = parts[1]
    return found


def test_a_fresh_embedded_mesh_passes_every_row(bookinfo: Mesh) -> None:
    result = doctor_cli(bookinfo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("all 10 checks passed"), result.stdout
    table = rows(result.stdout)
    assert set(table.values()) == {OK}
    assert "sidecars bookinfo" in table
    assert "sidecars default" in table
    sidecar_rows = [line for line in result.stdout.splitlines() if line.startswith("sidecars")]
    kinds = {("native" if "native sidecars" in r else "classic") for r in sidecar_rows}
    assert len(kinds) == 1
    assert f"istiod runs docker.io/istio/pilot:{pins.istio_version()}" in result.stdout
    # the lazily created families are judged by the bootstrap's stats matcher
    assert "created at first use, kept by the stats matcher" in result.stdout


def test_access_logs_switched_to_text_fail_the_row(native_bookinfo: Mesh) -> None:
    client = KubeClient.from_kubeconfig(
        native_bookinfo.info.kubeconfig, CONTEXT_NAME, embedded=True
    )
    original = client.call("GET", MESH_CONFIG)["data"]["mesh"]
    mesh = yaml.safe_load(original)
    mesh.update(accessLogEncoding="TEXT", accessLogFormat="")
    try:
        client.call(
            "PATCH",
            MESH_CONFIG,
            body={"data": {"mesh": yaml.safe_dump(mesh)}},
            content_type="application/merge-patch+json",
        )
        result = doctor_cli(native_bookinfo)
        assert result.returncode == 1, result.stdout + result.stderr
        assert rows(result.stdout)["access log"] == FAIL
        assert "are text, not JSON" in result.stdout
        assert result.stdout.rstrip().endswith("1 of 10 checks failed: access log")
    finally:
        client.call(
            "PATCH",
            MESH_CONFIG,
            body={"data": {"mesh": original}},
            content_type="application/merge-patch+json",
        )
        client.close()


def test_a_sidecar_that_is_down_is_named(native_bookinfo: Mesh) -> None:
    """A pod whose sidecar stopped (killed, not restarted): the sidecars row names it as
    not ready, with the command that shows why. (Pods without any sidecar: the last test
    here, and the contract fake's cases in tests/contract/test_doctor.py.)"""
    client = KubeClient.from_kubeconfig(
        native_bookinfo.info.kubeconfig, CONTEXT_NAME, embedded=True
    )
    (pod,) = client.pods("bookinfo", "app=ratings")
    name = pod["metadata"]["name"]
    try:
        client.call("POST", f"/chaoskit/v1/namespaces/bookinfo/pods/{name}/kill")
        found = {
            r.check: r for r in Doctor(embedded_target(Path(native_bookinfo.info.state_dir))).run()
        }
        sidecars = found["sidecars bookinfo"]
        assert sidecars.result == FAIL, sidecars
        assert sidecars.found == f"istio-proxy not ready in {name}"
        assert f"kubectl describe pod -n bookinfo {name}" in sidecars.fix
        assert found["sidecars default"].result == OK
    finally:
        client.call("POST", f"/chaoskit/v1/namespaces/bookinfo/pods/{name}/restart")
        client.close()


def test_a_stats_matcher_without_the_families_fails_the_stats_row(native_bookinfo: Mesh) -> None:
    """Drop proxyStatsMatcher from the mesh config and restart the pod the doctor reads: its
    new bootstrap keeps only Istio's required stats, so the per-cluster families are gone
    from /stats (or, for those created at first use, rejected by the matcher), and the row
    names them, as on a cluster installed without chaoskit's operator file."""
    state = Path(native_bookinfo.info.state_dir)
    rows_before = {r.check: r for r in Doctor(embedded_target(state)).run()}
    found = re.search(r" in (\S+)/(\S+);", rows_before["proxy stats"].found)
    assert found is not None, rows_before["proxy stats"]
    namespace, pod = found.groups()
    client = KubeClient.from_kubeconfig(
        native_bookinfo.info.kubeconfig, CONTEXT_NAME, embedded=True
    )
    original = client.call("GET", MESH_CONFIG)["data"]["mesh"]
    mesh = yaml.safe_load(original)
    mesh["defaultConfig"].pop("proxyStatsMatcher")
    restart = f"/chaoskit/v1/namespaces/{namespace}/pods/{pod}/restart"
    try:
        client.call(
            "PATCH",
            MESH_CONFIG,
            body={"data": {"mesh": yaml.safe_dump(mesh)}},
            content_type="application/merge-patch+json",
        )
        client.call("POST", restart)
        row = {r.check: r for r in Doctor(embedded_target(state)).run()}["proxy stats"]
        assert row.result == FAIL, row
        assert f"in {namespace}/{pod}; missing: " in row.found
        assert "upstream timeouts" in row.found
        assert "outlier ejections" in row.found  # created at first use, and the matcher rejects it
        assert "proxyStatsMatcher" in row.fix
    finally:
        client.call(
            "PATCH",
            MESH_CONFIG,
            body={"data": {"mesh": original}},
            content_type="application/merge-patch+json",
        )
        client.call("POST", restart)
        client.close()


BOOKINFO_DEPLOYMENTS = (
    "productpage-v1",
    "details-v1",
    "ratings-v1",
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
)


@pytest.fixture(scope="module")
def uninjected_bookinfo(embedded_mesh: object, tmp_path_factory: pytest.TempPathFactory) -> Mesh:
    """Bookinfo's namespaces enrolled in ambient mode without a waypoint: no injection label,
    and pods without istio-proxy, as after `kubectl label namespace bookinfo
    istio-injection-` on a sidecar game day."""
    spec = derive_spec({}, tmp_path_factory.mktemp("ambient"), "ambient-l4")
    mesh: Mesh = embedded_mesh(Mesh, spec=spec, seed=3)  # type: ignore[operator]
    return mesh


def test_pods_without_a_sidecar_and_their_namespace_are_named(uninjected_bookinfo: Mesh) -> None:
    """The sidecar game day cannot run on pods that have no istio-proxy: the injection row
    and the sidecars row fail, naming the namespace label and every bare pod. (The embedded
    target checks the namespaces labelled for injection; a game day names Bookinfo's, as
    here.)"""
    target = replace(
        embedded_target(Path(uninjected_bookinfo.info.state_dir)),
        workloads={"bookinfo": BOOKINFO_DEPLOYMENTS},
    )
    found = {r.check: r for r in Doctor(target).run()}
    injection = found["injection bookinfo"]
    assert injection.result == FAIL, injection
    assert "kubectl label namespace bookinfo istio-injection=enabled" in injection.fix
    sidecars = found["sidecars bookinfo"]
    assert sidecars.result == FAIL, sidecars
    assert sidecars.found.startswith("no istio-proxy in ")
    bare = sidecars.found.removeprefix("no istio-proxy in ").split(", ")
    assert {name.rsplit("-", 1)[0] for name in bare} == set(BOOKINFO_DEPLOYMENTS)
