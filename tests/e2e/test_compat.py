"""Behaviour that changed between Istio releases, on a mesh emulating Istio 1.19.

The session mesh emulates the pinned release (1.28); these tests run the same requests on
an old release and see the old behaviour (istio-semantics §1.6, §1.8, §2.4).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaoskit.controlplane.launcher import MeshProcess
from tests.e2e.conftest import HTTPBIN_MIRROR, SPEC, MeshHandle

CLUSTER = "cluster.outbound|8000||httpbin.default.svc.cluster.local."


@pytest.fixture(scope="module")
def old_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeshHandle]:
    directory = tmp_path_factory.mktemp("old-mesh")
    spec = directory / "spec.yaml"
    # Istio 1.19 injected classic sidecars (istio-proxy among the containers).
    old_spec = Path(SPEC).read_text()
    old_spec = old_spec.replace(
        'istioVersion: "1.28"', 'istioVersion: "1.19"\n  sidecarInjection: classic'
    )
    spec.write_text(old_spec)
    process = MeshProcess.start(directory / "state", spec=spec, seed=11)
    handle = MeshHandle(process)
    yield handle
    handle.close()
    process.stop()


@pytest.fixture
def old(old_mesh: MeshHandle) -> MeshHandle:
    old_mesh.reset()
    return old_mesh


def test_classic_injection_lists_istio_proxy_among_the_containers(old: MeshHandle) -> None:
    pod = old.pod("app=httpbin")
    assert "initContainers" not in pod["spec"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["httpbin", "istio-proxy"]
    statuses = pod["status"]["containerStatuses"]
    assert [s["name"] for s in statuses] == ["httpbin", "istio-proxy"]
    assert all(s["ready"] for s in statuses)
    assert "initContainerStatuses" not in pod["status"]


def test_default_policy_retries_503_before_istio_1_24(old: MeshHandle) -> None:
    fortio = old.pod("app=fortio")
    assert old.fetch("httpbin:8000/status/503").status_code == 503
    stats = old.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_total"] == 3
    assert stats[CLUSTER + "upstream_rq_retry"] == 2


def test_mirrored_requests_carry_the_shadow_suffix_before_istio_1_28(old: MeshHandle) -> None:
    old.apply(HTTPBIN_MIRROR)
    v2 = old.pod("app=httpbin,version=v2")
    mark = old.admin(v2, "/chaoskit/access_log").json()["last"]
    old.fetch("httpbin:8000/get")
    deadline = time.monotonic() + 5
    records: list[dict[str, object]] = []
    while not records and time.monotonic() < deadline:
        records = old.admin(v2, f"/chaoskit/access_log?since={mark}").json()["records"]
        time.sleep(0.02)
    assert [r["authority"] for r in records] == ["httpbin-shadow:8000"]


def test_envoy_before_1_28_always_ejects_one_host(old: MeshHandle) -> None:
    """With the default 10 % cap, old Envoy still ejected one of three hosts."""
    old.apply("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend}
spec:
  host: backend
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s}
""")
    bad = old.pod("app=backend")
    old.set_settings(bad["metadata"]["name"], {"errorRate": 1.0})
    result = old.load("http://backend:9080/", requests=60)
    # Before 1.24 the default policy also retried the 503s on other hosts: no client error.
    assert result["codes"] == {"200": 60}
    stats = old.stats(old.pod("app=fortio"))
    assert (
        stats[
            "cluster.outbound|9080||backend.default.svc.cluster.local.outlier_detection.ejections_enforced_total"
        ]
        == 1
    )
