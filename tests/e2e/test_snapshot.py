"""``chaoskit mesh snapshot`` against the running embedded mesh, read through its Kubernetes
API as if it were a remote cluster: the twin's spec carries the same services, workloads
and Istio config, and no Secret is ever read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from chaoskit.cluster.snapshot import METADATA_ONLY, read_snapshot, write_snapshot
from chaoskit.topology.spec import MeshSpec
from tests.e2e.conftest import SPEC, MeshHandle


class RecordingReader:
    """The real client, with every request it makes written down."""

    def __init__(self, mesh: MeshHandle) -> None:
        self.client = mesh.client
        self.requests: list[tuple[str, str]] = []
        self.accepts: dict[str, str] = {}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        self.requests.append((method, path))
        self.accepts[path] = kwargs.get("accept", "application/json")
        return self.client.call(method, path, **kwargs)


def _by_key(items: list[Any], key: Any) -> dict[Any, Any]:
    return {key(i): i for i in items}


CONFIG = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin}
spec:
  host: httpbin
  subsets:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
    - route:
        - {destination: {host: httpbin, subset: v1}, weight: 90}
        - {destination: {host: httpbin, subset: v2}, weight: 10}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop-tls, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts: [shop.example.com]
      tls: {mode: SIMPLE, credentialName: demo-tls}
"""


def test_the_twin_has_the_same_services_workloads_and_istio_config(
    mesh: MeshHandle, tmp_path: Path
) -> None:
    mesh.apply(CONFIG)
    reader = RecordingReader(mesh)
    snap = read_snapshot(reader, context="embedded", server=mesh.client.server)
    spec_path = write_snapshot(snap, tmp_path / "twin")
    twin = MeshSpec.load(spec_path)  # a valid spec the embedded mesh can run
    original = MeshSpec.load(SPEC)  # the spec the e2e mesh runs

    assert {m for m, _ in reader.requests} == {"GET"}
    # Secrets: only istio-system's names (metadata only), to check the credentialNames.
    secrets = sorted({p for _, p in reader.requests if "/secrets" in p})
    assert secrets == ["/api/v1/namespaces/istio-system/secrets"]
    assert "as=PartialObjectMetadataList" in reader.accepts[secrets[0]]
    # The mesh holds demo-tls (tests/data/mesh/small-mesh.yaml): the name was found.
    assert not [w for w in snap.warnings if "credentialName" in w], snap.warnings
    listed = mesh.client.call("GET", secrets[0], accept=METADATA_ONLY)
    assert listed["kind"] == "PartialObjectMetadataList"
    assert "demo-tls" in {i["metadata"]["name"] for i in listed["items"]}
    assert all(set(i) == {"kind", "apiVersion", "metadata"} for i in listed["items"])
    # A Secret's type is a field label, as on a real API server.
    for secret_type, found in (("kubernetes.io/tls", True), ("Opaque", False)):
        query = {"fieldSelector": f"type={secret_type}"}
        typed = mesh.client.call("GET", secrets[0], query=query, accept=METADATA_ONLY)
        assert ("demo-tls" in {i["metadata"]["name"] for i in typed["items"]}) is found

    def service_key(s: Any) -> tuple[str, str]:
        return (s.namespace, s.name)

    twin_services = _by_key(twin.spec.services, service_key)
    for service in original.spec.services:
        copy = twin_services[service_key(service)]
        assert [(p.port, p.container_port) for p in copy.ports] == [
            (p.port, p.container_port) for p in service.ports
        ], service.name
        assert copy.effective_selector == service.effective_selector
    assert len(twin_services) == len(original.spec.services)

    def workload_key(w: Any) -> tuple[str, str]:
        return (w.namespace, w.name)

    twin_workloads = _by_key(twin.spec.workloads, workload_key)
    assert set(twin_workloads) == {workload_key(w) for w in original.spec.workloads}
    for workload in original.spec.workloads:
        copy = twin_workloads[workload_key(workload)]
        assert copy.labels.items() >= workload.labels.items(), workload.name
        assert copy.replicas == workload.replicas, workload.name
        assert copy.sidecar == workload.sidecar, workload.name
    assert twin_workloads[("istio-system", "istio-ingressgateway")].app.name == "ingress-gateway"

    live = {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"])
        for plural in ("virtualservices", "destinationrules", "gateways")
        for o in mesh.client.list_resources(plural)
    }
    written = set()
    for path in twin.resource_files():
        for doc in yaml.safe_load_all(path.read_text()):
            written.add((doc["kind"], doc["metadata"]["namespace"], doc["metadata"]["name"]))
            assert "resourceVersion" not in doc["metadata"]
    assert {
        ("VirtualService", "default", "httpbin"),
        ("DestinationRule", "default", "httpbin"),
    } <= live
    assert live <= written
    # The Gateway's Secret was never read: a self-signed stand-in for its hosts. Any other
    # TLS Secret in istio-system (another test's, on this shared mesh) gets a stand-in for
    # *.example.com, since no Gateway names its hosts yet.
    stand_ins = {s.name: s.model_dump(by_alias=True) for s in twin.spec.secrets}
    assert stand_ins.pop("demo-tls") == {
        "name": "demo-tls",
        "namespace": "istio-system",
        "selfSigned": {"hosts": ["shop.example.com"]},
    }
    assert all(
        s["namespace"] == "istio-system" and s["selfSigned"] == {"hosts": ["*.example.com"]}
        for s in stand_ins.values()
    ), stand_ins
    assert (tmp_path / "twin" / "README.md").read_text().startswith("# A twin of a live mesh")


def test_the_command_reads_the_context_and_says_what_it_wrote(
    mesh: MeshHandle, tmp_path: Path
) -> None:
    out = tmp_path / "twin"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "chaoskit"),
            "mesh",
            "snapshot",
            "--kubeconfig",
            str(mesh.info.kubeconfig),
            "--namespaces",
            "default",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "(read-only)" in done.stdout.splitlines()[0]
    assert f"next: chaoskit mesh up --spec {out / 'mesh.yaml'}" in done.stdout
    twin = MeshSpec.load(out / "mesh.yaml")
    assert {s.namespace for s in twin.spec.services} == {"default", "istio-system"}
