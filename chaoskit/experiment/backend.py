"""The mesh an experiment runs against, behind one seam.

``LocalBackend`` drives the embedded mesh through the same Kubernetes REST paths a cluster
serves (``chaoskit.kube.client.KubeClient``) plus the sidecars' admin endpoints; a kind
cluster adds ``pods/exec`` for those (issue 8). Istio objects are plain dicts here, checked
with chaoskit's Istio models before they are sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
import yaml

from chaoskit.controlplane.kills import POD_DELETED, check_mode
from chaoskit.errors import BackendError, ConfigError
from chaoskit.istio.loading import load_text
from chaoskit.kube.client import KubeClient
from chaoskit.kube.objects import RUN_LABEL, clean
from chaoskit.kube.undo import ObjectRef, ObjectUndo
from chaoskit.topology.host_ports import ADMIN_PORT, host_ports
from chaoskit.topology.podshape import all_ready

ISTIO_KINDS = ("VirtualService", "DestinationRule", "Gateway", "ServiceEntry")
APP_SETTINGS = "chaoskit.dev/app-settings"
AMBIENT_REDIRECTION = "ambient.istio.io/redirection"  # set by Istio's CNI on ambient pods


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    ip: str
    labels: dict[str, str]
    running: bool
    # Ambient mode: no sidecar, the node's ztunnel carries the pod's traffic.
    ambient: bool = False
    # The app containers (spec.containers): a twin's pods run the generic app "echo".
    containers: tuple[str, ...] = ()
    # Port mode (embedded mesh on 127.0.0.1 only): the pod's ports → its ports on podIP.
    ports: dict[int, int] = field(default_factory=dict)

    def address(self, port: int) -> str:
        """``podIP:port`` where the pod's ``port`` is reached."""
        return f"{self.ip}:{self.ports.get(port, port)}"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Pod:
        meta, status = obj["metadata"], obj.get("status", {})
        annotations = meta.get("annotations") or {}
        return cls(
            meta["name"],
            meta["namespace"],
            status.get("podIP", ""),
            dict(meta.get("labels") or {}),
            status.get("phase") == "Running",
            annotations.get(AMBIENT_REDIRECTION) == "enabled",
            tuple(
                str(c.get("name", ""))
                for c in (obj.get("spec") or {}).get("containers") or []
                if c.get("name") != "istio-proxy"
            ),
            host_ports(obj),
        )


class MeshBackend(Protocol):
    name: str
    ingress_http: str
    ingress_https: str
    istio_version: str

    def apply_objects(self, objects: list[dict[str, Any]], run_id: str) -> list[ObjectUndo]: ...
    def rollback(self, changes: list[ObjectUndo]) -> None: ...
    def delete_object(self, kind: str, namespace: str, name: str) -> None: ...
    def list_objects(self) -> list[dict[str, Any]]: ...
    def sync(self) -> None: ...
    def in_mesh_client(self) -> str: ...
    def pods(self, namespace: str | None = None, selector: str = "") -> list[Pod]: ...
    def app_settings(self, pod: Pod) -> dict[str, Any]: ...
    def set_app_settings(self, pod: Pod, settings: dict[str, Any]) -> None: ...
    def kill_pod(
        self, pod: Pod, mode: str = POD_DELETED, endpoint_delay_s: float | None = None
    ) -> None: ...
    def restart_pod(self, pod: Pod) -> None: ...
    def admin(self, pod: Pod, path: str) -> str: ...
    def log_mark(self, pod: Pod) -> int: ...
    def access_log(
        self, pod: Pod, since: int, from_ts: float | None = None
    ) -> tuple[int, list[dict[str, Any]]]: ...
    def close(self) -> None: ...


def validate(objects: list[dict[str, Any]], source: str) -> list[Any]:
    """Check objects with chaoskit's Istio models; a clear error names the bad field."""
    text = yaml.safe_dump_all(objects, sort_keys=False)
    result = load_text(text, source)
    errors = [p for p in result.problems if p.level == "Error"]
    if errors:
        details = "\n  ".join(p.describe() for p in errors)
        raise ConfigError(f"{source}: invalid Istio resources:\n  {details}")
    return list(result.resources)


def list_istio_objects(client: KubeClient) -> list[dict[str, Any]]:
    """Every Istio networking object, in every namespace, with its kind filled in."""
    from chaoskit.istio.resources import RESOURCE_TYPES

    found = []
    for cls in RESOURCE_TYPES.values():
        for item in client.list_resources(cls.plural, None):
            item.setdefault("kind", cls.kind_name)
            found.append(item)
    return found


class LocalBackend:
    """The embedded mesh (``chaoskit.controlplane``), started by the session or attached to."""

    name = "local"

    def __init__(self, kubeconfig: str, info: Any) -> None:
        self.info = info
        self.client = KubeClient.from_kubeconfig(kubeconfig, embedded=True)
        self.http = requests.Session()
        self.ingress_http: str = info.ingress_http
        self.ingress_https: str = info.ingress_https
        self.istio_version: str = str(info.istio_version)
        # killed pods → (mode, their workload's selector, its running count before)
        self._killed: dict[tuple[str, str], tuple[str, str, int]] = {}

    # --- Istio resources -------------------------------------------------------------

    def apply_objects(self, objects: list[dict[str, Any]], run_id: str) -> list[ObjectUndo]:
        loaded = validate(objects, "chaoskit")
        changes: list[ObjectUndo] = []
        newest = 0
        for item in loaded:
            resource, namespace = item.resource, item.namespace
            kind, name = type(resource).kind_name, resource.metadata.name
            before = self.client.get(type(resource).plural, namespace, name)
            change = ObjectUndo(ObjectRef(kind, namespace, name), clean(before) if before else None)
            labels = {RUN_LABEL: run_id} if before is None else None
            applied = self.client.apply(resource, namespace, labels)
            newest = max(newest, applied.resource_version)
            changes.append(change)
        if newest:
            self.client.wait_synced(newest)
        return changes

    def rollback(self, changes: list[ObjectUndo]) -> None:
        """Undo ``changes`` newest first; every proxy has the old config when it returns."""
        for change in reversed(changes):
            if change.before is None:
                self.client.delete(*change.key)
            else:
                self.apply_objects([change.before], run_id="")
        self.sync()

    def list_objects(self) -> list[dict[str, Any]]:
        # The embedded mesh also serves Gateway API HTTPRoutes (a cluster may lack the CRDs).
        routes = self.client.list_resources("httproutes", None)
        for route in routes:
            route.setdefault("kind", "HTTPRoute")
        return [*list_istio_objects(self.client), *routes]

    def delete_object(self, kind: str, namespace: str, name: str) -> None:
        self.client.delete(kind, namespace, name)

    def sync(self) -> None:
        """Wait until every proxy has the newest pushed config."""
        self.client.wait_synced(int(self.client.proxy_status()["pushedVersion"]))

    def lost_pods(self) -> list[str]:
        """Pods that died without a fault killing them, as ``proxy (state)``."""
        rows = self.client.proxy_status()["proxies"]
        return [f"{row['proxy']} ({row['state']})" for row in rows if row.get("lost")]

    def restart_lost(self) -> None:
        """Restart the lost pods in place (same name and address), as kubelet would."""
        lost = [r["proxy"] for r in self.client.proxy_status()["proxies"] if r.get("lost")]
        names = []
        for proxy in lost:
            name, namespace = proxy.split(".", 1)
            self.client.restart_pod(namespace, name)
            names.append(name)
        if names:
            self.wait_ready(names)

    def in_mesh_client(self) -> str:
        """The in-mesh load client (the fortio pod), reachable on loopback."""
        client = self.pods(None, "app=fortio")
        if not client:
            raise ConfigError("in-mesh load (service=...) needs the fortio pod (app=fortio)")
        return f"http://{client[0].address(8080)}"

    # --- pods ----------------------------------------------------------------------------

    def pods(self, namespace: str | None = None, selector: str = "") -> list[Pod]:
        pods = [Pod.from_json(p) for p in self.client.pods(namespace, selector)]
        return sorted(pods, key=lambda p: (p.namespace, p.name))

    def app_settings(self, pod: Pod) -> dict[str, Any]:
        obj = self.client.call("GET", f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}")
        annotations = obj["metadata"].get("annotations") or {}
        return dict(json.loads(annotations.get(APP_SETTINGS, "{}")))

    def set_app_settings(self, pod: Pod, settings: dict[str, Any]) -> None:
        patch = {"metadata": {"annotations": {APP_SETTINGS: json.dumps(settings)}}}
        self.client.patch_pod(pod.namespace, pod.name, patch)

    def kill_pod(
        self, pod: Pod, mode: str = POD_DELETED, endpoint_delay_s: float | None = None
    ) -> None:
        """Kill ``pod`` as ``mode`` says (``chaoskit.controlplane.kills``); its endpoint
        leaves EDS after ``endpoint_delay_s`` (None: the mode's default)."""
        try:
            check_mode(mode)
        except ValueError as exc:
            raise ConfigError(f"chaos.kill of pod {pod.namespace}/{pod.name}: {exc}") from None
        selector = ",".join(
            f"{k}={v}" for k, v in sorted(pod.labels.items()) if k in ("app", "version")
        )
        ready = sum(1 for p in self.pods(pod.namespace, selector) if p.running)
        self._killed[(pod.namespace, pod.name)] = (mode, selector, ready)
        self.client.kill_pod(pod.namespace, pod.name, mode, endpoint_delay_s)

    def restart_pod(self, pod: Pod) -> None:
        """Bring a killed pod back; a deleted one is not: wait for its replacement."""
        mode, selector, wanted = self._killed.pop((pod.namespace, pod.name), ("", "", 0))
        if mode != POD_DELETED:
            self.client.restart_pod(pod.namespace, pod.name)
            self.wait_ready([pod.name])
            return
        deadline = time.monotonic() + 30.0
        while sum(1 for p in self.pods(pod.namespace, selector) if p.running) < wanted:
            if time.monotonic() > deadline:
                raise BackendError(
                    f"{selector} in {pod.namespace} did not get back to {wanted} running "
                    "replica(s) within 30s of the pod's deletion"
                )
            time.sleep(0.05)
        self.wait_ready()

    def wait_ready(self, names: Iterable[str] = (), timeout_s: float = 30.0) -> None:
        wanted = set(names)
        deadline = time.monotonic() + timeout_s
        while True:
            pods = self.client.pods(None, "")
            waiting = [
                p["metadata"]["name"]
                for p in pods
                if (not wanted or p["metadata"]["name"] in wanted)
                and not (p["status"].get("phase") == "Running" and all_ready(p))
            ]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise BackendError(f"pods not ready after {timeout_s:g}s: {', '.join(waiting)}")
            time.sleep(0.05)

    # --- sidecars -------------------------------------------------------------------------

    def admin(self, pod: Pod, path: str) -> str:
        response = self.http.get(f"http://{pod.address(ADMIN_PORT)}{path}", timeout=10)
        response.raise_for_status()
        return response.text

    def log_mark(self, pod: Pod) -> int:
        """The sidecar's newest access-log sequence number."""
        return int(json.loads(self.admin(pod, "/chaoskit/access_log?since=1000000000000"))["last"])

    def access_log(
        self, pod: Pod, since: int, from_ts: float | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Records after sequence number ``since``, and the newest sequence number; with
        ``from_ts``, the sidecar leaves out records of requests that started earlier."""
        records: list[dict[str, Any]] = []
        last = since
        floor = f"&fromTs={from_ts!r}" if from_ts is not None else ""
        while True:
            data = json.loads(self.admin(pod, f"/chaoskit/access_log?since={last}{floor}"))
            batch = data.get("records", [])
            records.extend(batch)
            if not batch:
                return int(data.get("last", last)), records
            last = int(batch[-1]["seq"])

    def close(self) -> None:
        self.client.close()
        self.http.close()
