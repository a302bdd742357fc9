"""Killing a replica three ways, seen by callers through real sockets.

Each mode follows the source line cited in its test; ``chaoskit.controlplane.kills`` says
how long a real cluster takes to drop the endpoint in each case.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chaoskit.experiment.backend import LocalBackend
from chaoskit.experiment.chaos import Chaos
from chaoskit.experiment.record import ExperimentRecord
from chaoskit.kube.client import ApiStatusError
from chaoskit.topology.host_ports import pod_address
from tests.e2e.conftest import MeshHandle

BACKEND = "cluster.outbound|9080||backend.default.svc.cluster.local."
INBOUND = "cluster.inbound|9080||."
# Envoy's local reply when the inbound cluster's connect to the app is refused
# (source/common/router/router.cc, Filter::onUpstreamReset → onUpstreamAbort; the transport
# failure text from source/common/network/connection_impl.cc, "delayed connect error").
REFUSED_BODY = (
    "upstream connect error or disconnect/reset before headers. reset reason: remote "
    "connection failure, transport failure reason: delayed connect error: Connection refused"
)


@pytest.fixture
def victim(mesh: MeshHandle) -> Iterator[dict[str, Any]]:
    """One backend replica to kill; brought back (if it still exists) whatever the test did."""
    pod = mesh.pod("app=backend")
    yield pod
    meta = pod["metadata"]
    names = {p["metadata"]["name"] for p in mesh.pods("default", "app=backend")}
    if meta["name"] in names:
        mesh.client.restart_pod(meta["namespace"], meta["name"])


def _endpoints(mesh: MeshHandle) -> str:
    return mesh.admin(mesh.pod("app=fortio"), "/clusters").text


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def _wait_endpoint_gone(mesh: MeshHandle, address: str, timeout_s: float = 10.0) -> float:
    start = time.monotonic()
    while f"backend.default.svc.cluster.local::{address}::" in _endpoints(mesh):
        assert time.monotonic() - start < timeout_s, f"{address} still in EDS after {timeout_s}s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_app_crash_is_503_uf_from_its_sidecar_and_not_retried(
    mesh: MeshHandle, victim: dict[str, Any]
) -> None:
    """The sidecar answers 503 UF itself; Istio 1.28's default retry policy
    (istio/istio pilot/pkg/networking/core/route/retry/retry.go at 1.28.9, defaultPolicy:
    ``connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`` with no
    status codes) does not retry a 503 response. The caller's outlier detector sees it."""
    meta = victim["metadata"]
    mark = mesh.admin(victim, "/chaoskit/access_log").json()["last"]
    mesh.client.kill_pod(meta["namespace"], meta["name"], "app-crash", endpoint_delay_s=60)
    result = mesh.load("http://backend:9080/", requests=30, connections=1)
    failed = result["codes"].get("503", 0)
    assert failed >= 1, result["codes"]
    assert result["codes"].get("200", 0) + failed == 30, result["codes"]
    stats = mesh.stats(mesh.pod("app=fortio"))
    assert stats.get(BACKEND + "upstream_rq_retry", 0) == 0
    assert stats[BACKEND + "upstream_rq_503"] == failed
    # The dead app's sidecar served them: its access log says UF with Envoy's details.
    records = mesh.admin(victim, f"/chaoskit/access_log?since={mark}").json()["records"]
    refused = [r for r in records if r["direction"] == "inbound" and r["response_code"] == 503]
    assert len(refused) == failed
    assert {r["response_flags"] for r in refused} == {"UF"}
    assert {r["response_code_details"] for r in refused} == {
        "upstream_reset_before_response_started"
        "{remote_connection_failure|delayed_connect_error:_Connection_refused}"
    }
    assert mesh.stats(victim)[INBOUND + "upstream_cx_connect_fail"] == failed
    status = mesh.client.call("GET", f"/api/v1/namespaces/default/pods/{meta['name']}")
    assert status["status"]["conditions"] == [{"type": "Ready", "status": "False"}]


def test_app_crash_body_and_restart(mesh: MeshHandle, victim: dict[str, Any]) -> None:
    """The caller gets Envoy's local reply; after the kubelet notices (PLEG relist, 1 s:
    kubernetes pkg/kubelet/kubelet.go genericPlegRelistPeriod) the NotReady pod leaves
    EDS; each restart of the container adds one to its restartCount."""
    meta, address = victim["metadata"], pod_address(victim, 9080)
    restarts = victim["status"]["containerStatuses"][0]["restartCount"]
    mesh.client.kill_pod(meta["namespace"], meta["name"], "app-crash", endpoint_delay_s=60)
    direct = mesh.http.get(f"http://{address}/", timeout=10)
    assert (direct.status_code, direct.text) == (503, REFUSED_BODY)
    mesh.client.restart_pod(meta["namespace"], meta["name"])
    assert mesh.http.get(f"http://{address}/", timeout=10).status_code == 200
    mesh.client.kill_pod(meta["namespace"], meta["name"], "app-crash")  # default delay
    assert _wait_endpoint_gone(mesh, address) >= 0.5
    result = mesh.load("http://backend:9080/", requests=20, connections=1)
    assert result["codes"] == {"200": 20}
    restarted = mesh.client.restart_pod(meta["namespace"], meta["name"])
    assert restarted["status"]["containerStatuses"][0]["restartCount"] == restarts + 2


def test_pod_deleted_refuses_until_its_endpoint_leaves_eds(
    mesh: MeshHandle, victim: dict[str, Any]
) -> None:
    """Both containers gone: connects to the old address are refused, which the default
    ``connect-failure`` retry sends to another replica (retry.go at 1.28.9, as above), until
    the endpoint leaves EDS; the ReplicaSet's replacement has a new name and address."""
    meta, address = victim["metadata"], pod_address(victim, 9080)
    mesh.client.kill_pod(meta["namespace"], meta["name"], "pod-deleted", endpoint_delay_s=3)
    assert f"::{address}::" in _endpoints(mesh)
    result = mesh.load("http://backend:9080/", requests=30, connections=2)
    assert result["codes"] == {"200": 30}
    stats = mesh.stats(mesh.pod("app=fortio"))
    assert stats[BACKEND + "upstream_cx_connect_fail"] >= 1
    assert stats[BACKEND + "upstream_rq_retry"] == stats[BACKEND + "upstream_cx_connect_fail"]
    _wait_endpoint_gone(mesh, address)
    names = {p["metadata"]["name"] for p in mesh.pods("default", "app=backend")}
    assert meta["name"] not in names
    assert len(names) == 3
    mesh.wait_ready()


def test_node_lost_connects_time_out_at_connect_timeout(
    mesh: MeshHandle, victim: dict[str, Any]
) -> None:
    """Packets to a lost node vanish: each connect waits the DestinationRule's
    ``connectionPool.tcp.connectTimeout`` (Envoy's cluster connect_timeout: the pool's
    connect timer, source/common/conn_pool/conn_pool_base.cc ActiveClient::onConnectTimeout,
    which counts ``upstream_cx_connect_timeout``), and is retried as a connect-failure; an
    established connection to the node hangs."""
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend}
spec:
  host: backend
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: 0.3s}
      http: {maxRequestsPerConnection: 1}
""")
    meta, address = victim["metadata"], pod_address(victim, 9080)
    established = socket.create_connection(_host_port(address), timeout=5)
    try:
        mesh.client.kill_pod(meta["namespace"], meta["name"], "node-lost")
        status = mesh.client.call("GET", f"/api/v1/namespaces/default/pods/{meta['name']}")
        assert status["status"]["phase"] == "Unknown"
        result = mesh.load("http://backend:9080/", requests=20, connections=2)
        assert result["codes"] == {"200": 20}
        stats = mesh.stats(mesh.pod("app=fortio"))
        timeouts = stats[BACKEND + "upstream_cx_connect_timeout"]
        assert timeouts >= 1
        assert stats[BACKEND + "upstream_rq_retry"] == timeouts
        slow = [r for r in result["results"] if r["latency"] >= 0.3]
        assert len(slow) >= 1
        established.settimeout(0.5)
        established.sendall(b"GET / HTTP/1.1\r\nhost: backend\r\n\r\n")
        with pytest.raises(TimeoutError):
            established.recv(1024)
    finally:
        established.close()


def test_app_crash_503s_eject_the_replica(mesh: MeshHandle, victim: dict[str, Any]) -> None:
    """The sidecar's 503s are upstream 5xx to the caller, so ``consecutive5xxErrors``
    ejects the crashed replica (Envoy's outlier detector counts the response code,
    source/common/upstream/outlier_detection_impl.cc, putHttpResponseCode)."""
    mesh.apply("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend}
spec:
  host: backend
  trafficPolicy:
    outlierDetection:
      {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}
""")
    meta = victim["metadata"]
    mesh.client.kill_pod(meta["namespace"], meta["name"], "app-crash", endpoint_delay_s=60)
    result = mesh.load("http://backend:9080/", requests=60, connections=1)
    assert result["codes"].get("503", 0) == 3
    stats = mesh.stats(mesh.pod("app=fortio"))
    assert stats[BACKEND + "outlier_detection.ejections_enforced_consecutive_5xx"] == 1


def test_a_bad_mode_or_delay_is_a_400_naming_it(mesh: MeshHandle) -> None:
    name = mesh.pod("app=backend")["metadata"]["name"]
    with pytest.raises(ApiStatusError, match=r"unknown kill mode 'oom'; use one of app-crash"):
        mesh.client.kill_pod("default", name, "oom")
    with pytest.raises(ApiStatusError, match=r"endpointDelaySeconds must be >= 0"):
        mesh.client.kill_pod("default", name, "pod-deleted", endpoint_delay_s=-1)
    assert mesh.pod("app=backend")["status"]["phase"] == "Running"


@pytest.mark.parametrize("mode", ["app-crash", "node-lost", "pod-deleted"])
def test_chaos_kill_in_each_mode_is_rolled_back(mesh: MeshHandle, mode: str) -> None:
    """Through the experiment layer: the fault acts, and its rollback leaves the workload
    with all its replicas running and ready (a deleted pod's replacement counts)."""
    backend = LocalBackend(mesh.info.kubeconfig, mesh.info)
    chaos = Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""), namespace="default")
    try:
        # A crashed app's endpoint stays while the load runs, however slow the machine.
        delay = "60s" if mode == "app-crash" else None
        (name,) = chaos.kill("backend", mode=mode, endpoint_delay=delay).pods
        pods = {p.name: p for p in backend.pods("default", "app=backend")}
        if mode == "node-lost":
            assert pods[name].running is False
        elif mode == "pod-deleted":
            assert name not in pods
        else:
            app = mesh.client.call("GET", f"/api/v1/namespaces/default/pods/{name}")
            assert app["status"]["containerStatuses"][0]["ready"] is False
            result = mesh.load("http://backend:9080/", requests=30, connections=1)
            assert result["codes"].get("503", 0) >= 1, result["codes"]
        chaos.rollback()
        after = backend.pods("default", "app=backend")
        assert len(after) == 3
        assert all(p.running for p in after), after
        mesh.wait_ready(timeout_s=10)
    finally:
        backend.close()
