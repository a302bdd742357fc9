"""Server-side printing: lists answered as ``meta.k8s.io/v1`` ``Table`` when kubectl asks.

``kubectl get`` sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io, ...`` and
prints the columns the server chose, so the columns here are kube-apiserver's own
(``pkg/printers/internalversion/printers.go``) for pods, services and deployments, and the
``additionalPrinterColumns`` of Istio's CRDs (``manifests/charts/base/files/crd-all.gen.yaml``)
for the Istio kinds. Ages are rendered on the server as ``HumanDuration`` does
(``k8s.io/apimachinery/pkg/util/duration``).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chaoskit.controlplane.store import JsonObject
from chaoskit.topology.podshape import long_running_statuses

TABLE_MEDIA = "as=Table"


def wants_table(accept: str) -> bool:
    """True when the client lists a ``meta.k8s.io`` Table among the types it accepts."""
    return any(TABLE_MEDIA in part and "g=meta.k8s.io" in part for part in accept.split(","))


def human_duration(seconds: float) -> str:
    """``HumanDuration``: two units while the larger one is small, one after."""
    whole = int(seconds)  # Go's int() truncates toward zero, as here
    if whole < -1:
        return "<invalid>"
    s = max(0, whole)
    minutes, hours = s // 60, s // 3600
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    if years < 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def age(obj: JsonObject, now: float) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    return human_duration(now - created.timestamp())


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    cell: Callable[[JsonObject, float], Any]
    priority: int = 0  # 1: only with -o wide
    format: str = ""

    def definition(self) -> JsonObject:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": "",
            "priority": self.priority,
        }


def _name(obj: JsonObject, now: float) -> str:
    return str(obj["metadata"]["name"])


def _json_path(*keys: str) -> Callable[[JsonObject, float], str]:
    """A CRD column's JSONPath cell: lists print as compact JSON, missing fields as blank."""

    def cell(obj: JsonObject, now: float) -> str:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return ""
        if isinstance(value, list | dict):
            return json.dumps(value, separators=(",", ":"))
        return str(value)

    return cell


NAME = Column("Name", "string", _name, format="name")
AGE = Column("Age", "string", age)


def _pod_ready(pod: JsonObject, now: float) -> str:
    statuses = _all_statuses(pod)
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(statuses)}"


def _all_statuses(pod: JsonObject) -> list[JsonObject]:
    return long_running_statuses(pod)


def _pod_status(pod: JsonObject, now: float) -> str:
    # printPod: a terminated container's reason (Error, Completed) outranks the phase.
    for container in _all_statuses(pod):
        terminated = (container.get("state") or {}).get("terminated")
        if terminated:
            return str(terminated.get("reason") or "Error")
    return str((pod.get("status") or {}).get("phase") or "Unknown")


def _pod_restarts(pod: JsonObject, now: float) -> str:
    return str(sum(int(s.get("restartCount") or 0) for s in _all_statuses(pod)))


def _pod_field(key: str) -> Callable[[JsonObject, float], str]:
    def cell(pod: JsonObject, now: float) -> str:
        value = (pod.get("status") or {}).get(key) or (pod.get("spec") or {}).get(key)
        return str(value or "<none>")

    return cell


def _none(obj: JsonObject, now: float) -> str:
    return "<none>"


POD_COLUMNS = (
    NAME,
    Column("Ready", "string", _pod_ready),
    Column("Status", "string", _pod_status),
    Column("Restarts", "string", _pod_restarts),
    AGE,
    Column("IP", "string", _pod_field("podIP"), priority=1),
    Column("Node", "string", _pod_field("nodeName"), priority=1),
    Column("Nominated Node", "string", _none, priority=1),
    Column("Readiness Gates", "string", _none, priority=1),
)


def _service_ports(svc: JsonObject, now: float) -> str:
    ports = (svc.get("spec") or {}).get("ports") or []
    return ",".join(f"{p['port']}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _selector(svc: JsonObject, now: float) -> str:
    selector = (svc.get("spec") or {}).get("selector") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"


def _spec_text(key: str, missing: str = "<none>") -> Callable[[JsonObject, float], str]:
    def cell(obj: JsonObject, now: float) -> str:
        return str((obj.get("spec") or {}).get(key) or missing)

    return cell


SERVICE_COLUMNS = (
    NAME,
    Column("Type", "string", _spec_text("type")),
    Column("Cluster-IP", "string", _spec_text("clusterIP")),
    Column("External-IP", "string", _none),
    Column("Port(s)", "string", _service_ports),
    AGE,
    Column("Selector", "string", _selector, priority=1),
)


def _deploy_status(key: str) -> Callable[[JsonObject, float], int]:
    def cell(deploy: JsonObject, now: float) -> int:
        return int((deploy.get("status") or {}).get(key) or 0)

    return cell


def _deploy_ready(deploy: JsonObject, now: float) -> str:
    ready = int((deploy.get("status") or {}).get("readyReplicas") or 0)
    return f"{ready}/{int((deploy.get('spec') or {}).get('replicas') or 0)}"


def _deploy_containers(deploy: JsonObject, now: float) -> str:
    spec = (((deploy.get("spec") or {}).get("template") or {}).get("spec")) or {}
    return ",".join(c["name"] for c in spec.get("containers") or []) or "<none>"


def _deploy_selector(deploy: JsonObject, now: float) -> str:
    labels = ((deploy.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


DEPLOYMENT_COLUMNS = (
    NAME,
    Column("Ready", "string", _deploy_ready),
    Column("Up-to-date", "integer", _deploy_status("updatedReplicas")),
    Column("Available", "integer", _deploy_status("availableReplicas")),
    AGE,
    Column("Containers", "string", _deploy_containers, priority=1),
    Column("Selector", "string", _deploy_selector, priority=1),
)

NODE_COLUMNS = (
    NAME,
    Column("Status", "string", lambda node, now: "Ready"),
    Column("Roles", "string", lambda node, now: "control-plane"),
    AGE,
    Column("Version", "string", lambda node, now: node["status"]["nodeInfo"]["kubeletVersion"]),
)

SECRET_COLUMNS = (
    NAME,
    Column("Type", "string", lambda secret, now: str(secret.get("type") or "Opaque")),
    Column("Data", "integer", lambda secret, now: len(secret.get("data") or {})),
    AGE,
)

NAMESPACE_COLUMNS = (
    NAME,
    Column("Status", "string", lambda ns, now: ns["status"]["phase"]),
    AGE,
)

ISTIO_COLUMNS: dict[str, tuple[Column, ...]] = {
    "virtualservices": (
        NAME,
        Column("Gateways", "string", _json_path("spec", "gateways")),
        Column("Hosts", "string", _json_path("spec", "hosts")),
        AGE,
    ),
    "destinationrules": (NAME, Column("Host", "string", _json_path("spec", "host")), AGE),
    "gateways": (NAME, AGE),
    # gateway-api v1.5.1's HTTPRoute CRD: Hostnames, Age.
    "httproutes": (NAME, Column("Hostnames", "string", _json_path("spec", "hostnames")), AGE),
    "envoyfilters": (NAME, AGE),  # Istio's CRD declares no printer columns
    "serviceentries": (
        NAME,
        Column("Hosts", "string", _json_path("spec", "hosts")),
        Column("Location", "string", _json_path("spec", "location")),
        Column("Resolution", "string", _json_path("spec", "resolution")),
        AGE,
    ),
}


def _endpoint_addresses(obj: JsonObject, now: float) -> str:
    # kubectl's ENDPOINTS column: ip:port of every ready address (printers.go formatEndpoints)
    found = [
        f"{a['ip']}:{p['port']}"
        for s in obj.get("subsets") or []
        for a in s.get("addresses") or []
        for p in s.get("ports") or []
    ]
    return ",".join(found) or "<none>"


def _slice_ports(obj: JsonObject, now: float) -> str:
    return ",".join(str(p["port"]) for p in obj.get("ports") or []) or "<unset>"


def _slice_endpoints(obj: JsonObject, now: float) -> str:
    return ",".join(a for e in obj.get("endpoints") or [] for a in e["addresses"]) or "<unset>"


COLUMNS: dict[str, tuple[Column, ...]] = {
    "endpoints": (NAME, Column("Endpoints", "string", _endpoint_addresses), AGE),
    "endpointslices": (
        NAME,
        Column("AddressType", "string", _json_path("addressType")),
        Column("Ports", "string", _slice_ports),
        Column("Endpoints", "string", _slice_endpoints),
        AGE,
    ),
    "pods": POD_COLUMNS,
    "services": SERVICE_COLUMNS,
    "deployments": DEPLOYMENT_COLUMNS,
    "nodes": NODE_COLUMNS,
    "namespaces": NAMESPACE_COLUMNS,
    "secrets": SECRET_COLUMNS,
    **ISTIO_COLUMNS,
}


def _partial(obj: JsonObject) -> JsonObject:
    # includeObject=Metadata (the default): the row carries only the object's metadata.
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def table(
    plural: str, items: list[JsonObject], resource_version: str, now: float, include: str = ""
) -> JsonObject:
    """A ``Table`` of ``items``; ``include`` is the request's ``includeObject``."""
    columns = COLUMNS.get(plural, (NAME, AGE))
    rows = []
    for obj in items:
        row: JsonObject = {"cells": [c.cell(obj, now) for c in columns]}
        if include != "None":
            row["object"] = obj if include == "Object" else _partial(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [c.definition() for c in columns],
        "rows": rows,
    }
