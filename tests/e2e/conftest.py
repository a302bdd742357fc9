"""A real embedded mesh (child processes on loopback) for end-to-end tests of the mesh.

One mesh per test session (per xdist worker) on ``tests/data/mesh/small-mesh.yaml``;
``mesh`` resets it before each test: every Istio resource is deleted and every app's
settings are cleared, and the test waits until all sidecars have that config.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.istio.loading import load_text
from chaoskit.kube.client import KubeClient
from chaoskit.topology.host_ports import pod_address
from chaoskit.topology.podshape import all_ready

SPEC = Path(__file__).resolve().parent.parent / "data" / "mesh" / "small-mesh.yaml"
RESOURCES = Path(__file__).resolve().parent.parent.parent / "chaoskit" / "samples"
# httpbin's v1/v2 subsets and Istio's mirroring task, from the experiment corpus.
HTTPBIN_SUBSETS = (RESOURCES / "demo-destination-rules.yaml").read_text()
HTTPBIN_MIRROR = (
    HTTPBIN_SUBSETS + "---\n" + (RESOURCES / "istio-tasks" / "httpbin-mirror.yaml").read_text()
)
ISTIO_PLURALS = ("virtualservices", "destinationrules", "gateways", "serviceentries")
ENVOY_FILTERS = ("envoyfilters", "v1alpha3")  # served at v1alpha3 only, as Istio's CRD says


class MeshHandle:
    """What e2e tests do to the mesh: apply YAML, set app settings, send traffic, read admin."""

    def __init__(self, process: MeshProcess) -> None:
        self.process = process
        self.info = process.info
        self.client = KubeClient.from_kubeconfig(self.info.kubeconfig, embedded=True)
        self.http = requests.Session()

    # --- configuration ----------------------------------------------------------------

    def apply(self, text: str, namespace: str = "default") -> None:
        result = load_text(text, "<test>", default_namespace=namespace)
        errors = [p for p in result.problems if p.level == "Error"]
        assert not errors, [p.describe() for p in errors]
        newest = 0
        for loaded in result.resources:
            newest = max(
                newest, self.client.apply(loaded.resource, loaded.namespace).resource_version
            )
        self.client.wait_synced(newest)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            pods = self.pods()
            waiting = [
                p["metadata"]["name"]
                for p in pods
                if p["status"]["phase"] == "Running" and not all_ready(p)
            ]
            if not waiting:
                return
            assert time.monotonic() < deadline, f"pods not ready: {waiting}"
            time.sleep(0.05)

    def reset(self) -> None:
        self.wait_ready()
        for plural, version in (*((p, "v1") for p in ISTIO_PLURALS), ENVOY_FILTERS):
            for item in self.client.list_resources(plural, None, version=version):
                meta = item["metadata"]
                self.client.call(
                    "DELETE",
                    f"/apis/networking.istio.io/{version}/namespaces/{meta['namespace']}/{plural}/{meta['name']}",
                )
        for pod in self.pods():
            meta = pod["metadata"]
            if pod["status"]["phase"] != "Running":
                self.client.restart_pod(meta["namespace"], meta["name"])
            elif json.loads(meta["annotations"].get("chaoskit.dev/app-settings", "{}")):
                self.set_settings(meta["name"], {}, meta["namespace"])
        self.client.wait_synced(int(self.client.proxy_status()["pushedVersion"]))
        for pod in self.pods():
            self.http.post(f"http://{pod_address(pod, 15000)}/reset_counters", timeout=10)

    def set_settings(self, pod: str, settings: dict[str, Any], namespace: str = "default") -> None:
        self.client.patch_pod(
            namespace,
            pod,
            {"metadata": {"annotations": {"chaoskit.dev/app-settings": json.dumps(settings)}}},
        )

    # --- pods and admin -------------------------------------------------------------------

    def pods(self, namespace: str | None = None, selector: str = "") -> list[dict[str, Any]]:
        return self.client.pods(namespace, selector)

    def pod(self, selector: str, namespace: str = "default") -> dict[str, Any]:
        pods = sorted(self.pods(namespace, selector), key=lambda p: p["metadata"]["name"])
        assert pods, f"no pod matches {selector}"
        return pods[0]

    def admin(self, pod: dict[str, Any], path: str) -> requests.Response:
        return self.http.get(f"http://{pod_address(pod, 15000)}{path}", timeout=10)

    def last_outbound(self, pod: dict[str, Any]) -> dict[str, Any]:
        """The newest access-log record of ``pod``'s client side (its app's own calls)."""
        records = self.admin(pod, "/chaoskit/access_log").json()["records"]
        return dict([r for r in records if r["direction"] == "outbound"][-1])

    def stats(self, pod: dict[str, Any]) -> dict[str, int]:
        data = self.admin(pod, "/stats?format=json").json()
        return {s["name"]: s["value"] for s in data["stats"]}

    # --- traffic from inside the mesh (the fortio pod's sidecar) --------------------------------

    def fetch(
        self, authority_and_path: str, headers: dict[str, str] | None = None
    ) -> requests.Response:
        fortio = self.pod("app=fortio")
        url = f"http://{pod_address(fortio, 8080)}/fetch/{authority_and_path}"
        return self.http.get(url, headers=headers or {}, timeout=60)

    def load(self, url: str, **spec: Any) -> dict[str, Any]:
        fortio = self.pod("app=fortio")
        response = self.http.post(
            f"http://{pod_address(fortio, 8080)}/load", json={"url": url, **spec}, timeout=300
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def close(self) -> None:
        self.client.close()
        self.http.close()


@pytest.fixture(scope="session")
def _mesh_handle(embedded_mesh: Any) -> MeshHandle:
    # The root conftest's factory starts it once per session and stops it at the end.
    handle: MeshHandle = embedded_mesh(MeshHandle, spec=SPEC, seed=7)
    return handle


@pytest.fixture
def mesh(_mesh_handle: MeshHandle) -> MeshHandle:
    _mesh_handle.reset()
    return _mesh_handle


def dump(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False)
