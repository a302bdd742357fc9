"""The running embedded mesh's config, for ``chaoskit analyze`` to analyze like istioctl.

``istioctl analyze FILES`` analyzes the files overlaid on the live config of the cluster it
is connected to (a file's resource replaces the live one of the same kind, namespace and
name), and ``istioctl analyze`` with no files analyzes the live config alone. Here the
cluster is the embedded mesh in the state directory: its Istio resources and Secrets (for
instance one ``chaoskit secret create`` made) are read through its API server.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from chaoskit.istio.loading import LoadResult
    from chaoskit.kube.client import KubeClient
    from chaoskit.topology.spec import MeshSpec

__all__ = ["live_resources", "recorded_spec", "running_mesh", "with_live_secrets"]

ISTIO_PLURALS = ("virtualservices", "destinationrules", "gateways", "serviceentries")
ENVOY_FILTERS = ("envoyfilters", "v1alpha3")  # Istio's CRD serves EnvoyFilter at v1alpha3 only
LIVE_SOURCE = "live mesh"  # the source findings about live resources name


def recorded_spec(state_dir: Path) -> Path | None:
    """The spec file the mesh in ``state_dir`` was started with (None: the built-in)."""
    from chaoskit.controlplane.launcher import recorded_spec as read

    return read(state_dir)


def running_mesh(state_dir: Path) -> KubeClient | None:
    """A client of the embedded mesh running from ``state_dir``, or None."""
    from chaoskit.controlplane.launcher import pid_alive
    from chaoskit.controlplane.server import MeshInfo
    from chaoskit.kube.client import KubeClient

    info = MeshInfo.read(state_dir)
    if info is None or not pid_alive(info.pid):
        return None
    return KubeClient.from_kubeconfig(info.kubeconfig, embedded=True)


def live_resources(client: KubeClient) -> LoadResult:
    """Every Istio resource in force, loaded as if from one YAML stream."""
    from chaoskit.istio.loading import load_text

    objects = []
    for plural, version in (*((p, "v1") for p in ISTIO_PLURALS), ENVOY_FILTERS):
        for item in client.list_resources(plural, None, version=version):
            meta = item.get("metadata") or {}
            kept = {k: v for k, v in meta.items() if k in ("name", "namespace", "labels")}
            objects.append({**item, "metadata": kept})
    return load_text(yaml.safe_dump_all(objects, sort_keys=False), LIVE_SOURCE)


def with_live_secrets(mesh: MeshSpec, client: KubeClient) -> MeshSpec:
    """``mesh`` plus the TLS Secrets the running mesh has, in every namespace it declares."""
    from chaoskit.topology.spec import Secret

    known = {(s.namespace, s.name) for s in mesh.spec.secrets}
    extra = []
    for namespace in (ns.name for ns in mesh.spec.namespaces):
        found = client.call("GET", f"/api/v1/namespaces/{namespace}/secrets") or {}
        for item in found.get("items", []):
            name = str(item["metadata"]["name"])
            if (namespace, name) not in known:
                extra.append(Secret(name=name, namespace=namespace))
    if not extra:
        return mesh
    body = mesh.spec.model_copy(update={"secrets": [*mesh.spec.secrets, *extra]})
    return mesh.model_copy(update={"spec": body})
