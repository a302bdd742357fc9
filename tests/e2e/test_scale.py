"""A mesh the size of a real one: 100 pods start, all SYNCED, a push reaches every proxy,
and a pod that dies is reported (by proxy-status and by the sync wait), never left out."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from benchmarks.scale import spec_text as scale_spec
from chaoskit.controlplane.launcher import MeshProcess, pid_alive
from chaoskit.controlplane.pods import pod_pids
from chaoskit.kube.client import ApiStatusError, KubeClient

SERVICES = 99  # + the ingress gateway = 100 pods


VIRTUAL_SERVICE = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService",
    "metadata": {"name": "svc-7", "namespace": "default"},
    "spec": {"hosts": ["svc-7"], "http": [{"route": [{"destination": {"host": "svc-7"}}]}]},
}


def test_a_100_pod_mesh_starts_syncs_and_reports_a_lost_pod(tmp_path: Path) -> None:
    spec = tmp_path / "scale.yaml"
    spec.write_text(scale_spec(SERVICES))
    state = tmp_path / "state"
    mesh = MeshProcess.start(state, spec=spec, timeout_s=240)
    client = KubeClient.from_kubeconfig(mesh.info.kubeconfig, embedded=True)
    try:
        rows = client.proxy_status()["proxies"]
        assert len(rows) == SERVICES + 1
        assert {row["state"] for row in rows} == {"SYNCED"}

        version = client.call(
            "POST",
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            body=VIRTUAL_SERVICE,
        )["metadata"]["resourceVersion"]
        synced = client.wait_synced(int(version), timeout_s=60)
        assert len(synced["proxies"]) == SERVICES + 1
        assert min(synced["proxies"].values()) >= int(version)

        victim = next(r["proxy"] for r in rows if r["proxy"].startswith("svc-42-"))
        pid = pod_pids(state)[victim]
        os.kill(pid, signal.SIGKILL)  # behind the mesh's back: no fault asked for this
        deadline = time.monotonic() + 30
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lost = [r for r in client.proxy_status()["proxies"] if r.get("lost")]
            if lost:
                break
            time.sleep(0.1)
        assert [r["proxy"] for r in lost] == [victim]
        assert lost[0]["state"].startswith("NOT RUNNING (exit code -9")

        name = victim.removesuffix(".default")
        with pytest.raises(ApiStatusError, match=f"cannot reach every proxy: pod default/{name} "):
            client.wait_synced(int(version), timeout_s=30)
    finally:
        client.close()
        mesh.stop()
