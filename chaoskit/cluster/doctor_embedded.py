"""What ``chaoskit cluster doctor --kube-context chaoskit-embedded`` checks on the embedded mesh.

The embedded mesh runs its own topology, not the game day's: the workloads the suite needs
there are the Deployments of every namespace labelled for injection, the ingress is the one
in its ``mesh.json``, and the in-mesh client is its fortio pod, reached on the pod's
loopback address (as the embedded backend's ``in_mesh_client`` does). The guard's "not kind"
is expected here: the target is chaoskit's own processes.
"""

from __future__ import annotations

from pathlib import Path

from chaoskit.cluster import pins
from chaoskit.cluster.doctor import DoctorTarget
from chaoskit.controlplane.server import CONTEXT_NAME, MeshInfo
from chaoskit.errors import BackendError
from chaoskit.kube.client import KubeClient
from chaoskit.topology.host_ports import pod_address

FORTIO_PORT = 8080  # the fortio app's port in the embedded topology


def embedded_target(state_dir: Path, request_timeout_s: float = 5.0) -> DoctorTarget:
    """The doctor's target for the embedded mesh whose state is in ``state_dir``."""
    info = MeshInfo.read(state_dir)
    if info is None:
        raise BackendError(
            f"no embedded mesh is running (no {state_dir / 'mesh.json'}); start one with "
            "`chaoskit mesh up --detach`, or name a kind context"
        )
    client = KubeClient.from_kubeconfig(info.kubeconfig, CONTEXT_NAME, embedded=True)
    try:
        workloads: dict[str, tuple[str, ...]] = {}
        for namespace in client.call("GET", "/api/v1/namespaces").get("items") or []:
            meta = namespace.get("metadata") or {}
            labels = meta.get("labels") or {}
            if labels.get("istio-injection") != "enabled" and not labels.get("istio.io/rev"):
                continue
            name = str(meta["name"])
            deployments = tuple(str(d["metadata"]["name"]) for d in client.deployments(name))
            if deployments:
                workloads[name] = deployments
        clients = client.pods(None, "app=fortio")
    finally:
        client.close()
    # podIP:8080, or in port mode fortio's own port on 127.0.0.1
    address = pod_address(clients[0], FORTIO_PORT) if clients else None
    return DoctorTarget(
        info.kubeconfig,
        CONTEXT_NAME,
        allow_non_kind=True,
        embedded=True,
        workloads=workloads,
        ingress_url=f"{info.ingress_http}/productpage",
        ingress_expect=pins.PRODUCTPAGE_TITLE,
        # no fortio pod: nothing listens on port 1, and the row says so
        client_url=f"http://{address}" if address else "http://127.0.0.1:1",
        request_timeout_s=request_timeout_s,
    )
