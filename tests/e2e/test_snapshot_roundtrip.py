"""Round trip: snapshot the embedded Bookinfo mesh through its Kubernetes API as if it were a
remote cluster, start a twin from the snapshot, and compare what every proxy holds.

Per workload, the twin's proxies must hold the same routes, clusters and endpoints as the
original's (the admin ``/config_dump`` that ``chaoskit proxy-config routes|clusters`` reads,
and ``/clusters?format=json`` that ``proxy-config endpoints`` reads). Only what legitimately
differs between two meshes is normalised: pod names (a random suffix), pod and Service
addresses (each mesh claims its own 127.N/16 block), and traffic counters. The apps differ
on purpose (every twin workload runs the generic echo app), and an app is not proxy config.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from chaoskit.cluster.snapshot import read_snapshot, write_snapshot
from chaoskit.commands.envoy_routes import route_configurations
from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.controlplane.server import CONTEXT_NAME
from chaoskit.kube.client import KubeClient
from chaoskit.plugin.dataplanes import OTHER_PLANE

REPO = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
POD_SUFFIX = re.compile(r"-[0-9a-f]{5}$")
# Traffic, not config: what a proxy counted since it started.
COUNTERS = {"cx_active", "rq_active", "rq_total", "rq_error", "rq_success"}


@dataclass
class Mesh:
    process: MeshProcess
    client: KubeClient

    def close(self) -> None:
        self.client.close()
        self.process.stop()


def start(state_dir: Path, spec: Path | None = None) -> Mesh:
    process = MeshProcess.start(state_dir, spec=spec, seed=3)
    return Mesh(process, KubeClient.from_kubeconfig(process.info.kubeconfig, embedded=True))


@pytest.fixture(scope="module")
def meshes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mesh, Mesh, Path]]:
    base = tmp_path_factory.mktemp("roundtrip")
    original = start(base / "original")
    try:
        snap = read_snapshot(original.client, context="embedded", server=original.client.server)
        spec = write_snapshot(snap, base / "twin")
        twin = start(base / "twin-state", spec)
        try:
            yield original, twin, spec
        finally:
            twin.close()
    finally:
        original.close()


def workload_of(pod: dict[str, Any]) -> str:
    meta = pod["metadata"]
    return f"{meta['namespace']}/{POD_SUFFIX.sub('', meta['name'])}"


class Normaliser:
    """Pod names and addresses of one mesh, as names both meshes share."""

    def __init__(self, client: KubeClient) -> None:
        self.pods = client.pods(None, "")
        self.names: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        for pod in self.pods:
            meta = pod["metadata"]
            workload = workload_of(pod)
            self.names[meta["name"]] = POD_SUFFIX.sub("", meta["name"])
            self.addresses[pod["status"]["podIP"]] = f"<pod {workload}>"
        for service in client.call("GET", "/api/v1/services")["items"]:
            ip = service["spec"].get("clusterIP")
            if ip and ip != "None":
                meta = service["metadata"]
                self.addresses[ip] = f"<service {meta['namespace']}/{meta['name']}>"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items() if k not in COUNTERS}
        if isinstance(value, list):
            items = [self(v) for v in value]
            return sorted(items, key=repr) if _unordered(items) else items
        if isinstance(value, str):
            text = ADDRESS.sub(lambda m: self.addresses.get(m.group(0), "<unknown address>"), value)
            for name, canonical in self.names.items():
                text = text.replace(name, canonical)
            return text
        return value


def _unordered(items: list[Any]) -> bool:
    """Endpoint lists: one entry per pod, in whatever order the pods started."""
    return bool(items) and all(isinstance(i, dict) and "address" in i for i in items)


def proxy_config(mesh: Mesh) -> dict[str, dict[str, Any]]:
    """routes, clusters and endpoints of every proxy, by workload (replicas must agree)."""
    normalise = Normaliser(mesh.client)
    found: dict[str, dict[str, Any]] = {}
    with requests.Session() as http:
        for pod in normalise.pods:
            admin = f"http://{pod['status']['podIP']}:15000"
            dump = http.get(f"{admin}/config_dump", timeout=10).json()
            statuses = http.get(f"{admin}/clusters?format=json", timeout=10).json()
            config = normalise(
                {
                    "routes": route_configurations(
                        [lst["route_config"] for lst in dump.get("listeners", [])]
                    ),
                    "clusters": dump.get("clusters", []),
                    "endpoints": statuses["cluster_statuses"],
                }
            )
            workload = workload_of(pod)
            if workload in found:  # another replica: the same config, or the test is wrong
                assert found[workload] == config, f"replicas of {workload} differ"
            found[workload] = config
    return found


def test_the_twins_proxies_hold_the_originals_routes_clusters_and_endpoints(
    meshes: tuple[Mesh, Mesh, Path],
) -> None:
    original, twin, _ = meshes
    before, after = proxy_config(original), proxy_config(twin)
    assert set(after) == set(before)
    for workload, config in before.items():
        for section in ("routes", "clusters", "endpoints"):
            assert after[workload][section] == config[section], f"{workload}: {section}"
    # The comparison saw real config: Bookinfo's routes, subsets' clusters, several replicas.
    reviews = before["bookinfo/productpage-v1"]
    assert any("reviews.bookinfo.svc.cluster.local" in str(r) for r in reviews["routes"])
    assert "<unknown address>" not in repr(before)


def test_the_bookinfo_experiments_on_the_twin_hold_or_say_what_they_need(
    meshes: tuple[Mesh, Mesh, Path], tmp_path: Path
) -> None:
    """The experiment suite through the cluster backend against the twin, as against a
    remote cluster: each experiment holds, or is skipped because it needs an app's own
    behaviour (chaos(needs_app=...)), the embedded mesh (chaos(embedded_only=...)) or the
    data plane the twin does not run."""
    _, twin, _ = meshes
    info = twin.process.info
    fortio = twin.client.pods("default", "app=fortio")[0]["status"]["podIP"]
    report = tmp_path / "report"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "experiments/", f"--chaos-report={report}"),
            *("--mesh", "kube", "--kube-context", CONTEXT_NAME, "-p", "no:randomly", "-q"),
            *("-o", f"chaos_ingress_http={info.ingress_http}"),
            *("-o", f"chaos_ingress_https={info.ingress_https}"),
            *("-o", f"chaos_client_url=http://{fortio}:8080"),
        ],
        cwd=REPO,
        env={**os.environ, "KUBECONFIG": info.kubeconfig},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = json.loads((report / "results.json").read_text())["experiments"]
    assert len(results) >= 13, done.stdout[-3000:]
    reasons = (
        "whose pods run the generic echo app",
        "runs on the embedded mesh only",
        OTHER_PLANE,  # an experiment's [ambient] run on this sidecar twin
    )
    for experiment in results:
        where = (experiment["name"], experiment["outcome"], experiment.get("message"))
        if experiment["outcome"] == "skipped":
            assert any(r in experiment["message"] for r in reasons), where
        else:
            assert experiment["outcome"] == "held", where
    held = {e["name"] for e in results if e["outcome"] == "held"}
    # The one that needs no app's own behaviour, only the Gateway and its TLS Secret.
    assert held == {"test_https_clients_reach_api_service_through_the_gateway"}
