"""API discovery documents: what kubectl reads before it can resolve ``pods``, ``svc`` or ``vs``.

kubectl v1.32 asks ``/api`` and ``/apis`` for aggregated discovery first and falls back to
the legacy documents when the answer is plain ``APIVersions``/``APIGroupList``; it then reads
one ``APIResourceList`` per group version (client-go ``discovery/discovery_client.go``,
``ServerGroupsAndResources``). Short names (``po``, ``svc``, ``deploy``, ``vs``, ``dr``,
``gw``, ``se``) come from these lists, as on a cluster: Istio's CRDs declare them in
``manifests/charts/base/files/crd-all.gen.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from chaoskit.controlplane.kinds import ISTIO_KINDS, ISTIO_VERSIONS
from chaoskit.controlplane.store import JsonObject
from chaoskit.istio.resources import GROUP_VERSIONS

APPS = "apps"
DISCOVERY = "discovery.k8s.io"
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update")
READ_VERBS = ("get", "list")
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


@dataclass(frozen=True, slots=True)
class Served:
    """One resource (or subresource, ``pods/log``) in an ``APIResourceList``."""

    name: str
    kind: str
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    namespaced: bool = True

    def to_json(self) -> JsonObject:
        singular = "" if "/" in self.name else self.kind.lower()
        entry: JsonObject = {
            "name": self.name,
            "singularName": singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        return entry


CORE_V1 = (
    Served("namespaces", "Namespace", READ_VERBS, ("ns",), namespaced=False),
    Served("nodes", "Node", READ_VERBS, ("no",), namespaced=False),
    Served("pods", "Pod", ("delete", "get", "list", "patch"), ("po",)),
    Served("pods/log", "Pod", ("get",)),
    Served("pods/exec", "PodExecOptions", ("create", "get")),
    Served("services", "Service", READ_VERBS, ("svc",)),
    Served("endpoints", "Endpoints", READ_VERBS, ("ep",)),
    Served("secrets", "Secret", ("create", "delete", "get", "list", "update")),
)
APPS_V1 = (
    Served("deployments", "Deployment", ("get", "list", "patch"), ("deploy",)),
    Served("deployments/scale", "Scale", ("get", "patch", "update")),
)
DISCOVERY_V1 = (Served("endpointslices", "EndpointSlice", READ_VERBS),)
ISTIO_SHORT_NAMES = {
    "virtualservices": ("vs",),
    "destinationrules": ("dr",),
    "gateways": ("gw",),
    "serviceentries": ("se",),
}


def istio_resources(version: str, group: str) -> tuple[Served, ...]:
    """The kinds of ``group`` served at ``version`` (EnvoyFilter only at v1alpha3; HTTPRoute
    in gateway.networking.k8s.io at v1 and v1beta1)."""
    return tuple(
        Served(k.plural, k.kind, (*ALL_VERBS, "watch"), ISTIO_SHORT_NAMES.get(k.plural, ()))
        for k in ISTIO_KINDS.values()
        if k.group == group and version in ISTIO_VERSIONS[k.plural]
    )


def resource_list(group_version: str, resources: tuple[Served, ...]) -> JsonObject:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [r.to_json() for r in resources],
    }


def _group(name: str, versions: tuple[str, ...]) -> JsonObject:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def group_list() -> JsonObject:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            _group(APPS, ("v1",)),
            _group(DISCOVERY, ("v1",)),
            *(_group(name, versions) for name, versions in GROUP_VERSIONS.items()),
        ],
    }


def group(name: str) -> JsonObject | None:
    versions = {APPS: ("v1",), DISCOVERY: ("v1",), **GROUP_VERSIONS}.get(name)
    if versions is None:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def core_versions() -> JsonObject:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }
