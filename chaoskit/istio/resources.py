"""The Kubernetes envelope around each Istio spec, and the table of kinds chaoskit knows."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chaoskit.istio.destination_rule import DestinationRuleSpec
from chaoskit.istio.envoy_filter import EnvoyFilterSpec
from chaoskit.istio.gateway import GatewaySpec
from chaoskit.istio.http_route import GATEWAY_GROUP, HTTPRouteSpec
from chaoskit.istio.service_entry import ServiceEntrySpec
from chaoskit.istio.virtual_service import VirtualServiceSpec

GROUP = "networking.istio.io"
# Istio 1.22 promoted the networking API to v1; v1beta1 and v1alpha3 are still served
# with the same schema.
API_VERSIONS = ("v1", "v1beta1", "v1alpha3")


class ObjectMeta(BaseModel):
    """Kubernetes object metadata; server-set fields are kept but never required."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    name: str = ""
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    resource_version: str | None = Field(default=None, alias="resourceVersion")


class IstioResource(BaseModel):
    """An Istio custom resource: ``apiVersion``, ``kind``, ``metadata``, ``spec``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    kind_name: ClassVar[str] = ""
    group: ClassVar[str] = GROUP
    plural: ClassVar[str] = ""
    short_names: ClassVar[tuple[str, ...]] = ()
    api_versions: ClassVar[tuple[str, ...]] = API_VERSIONS  # served versions, newest first

    api_version: str = Field(alias="apiVersion")
    kind: str
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    # Status is written by the server; accepted and ignored, as kubectl apply does.
    status: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.metadata.name

    def namespace_or(self, default: str) -> str:
        return self.metadata.namespace or default

    def to_yaml_dict(self) -> dict[str, Any]:
        """Return the resource as YAML would spell it, with only the fields that were given."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=False)


class VirtualService(IstioResource):
    kind_name: ClassVar[str] = "VirtualService"
    plural: ClassVar[str] = "virtualservices"
    short_names: ClassVar[tuple[str, ...]] = ("vs",)
    spec: VirtualServiceSpec = Field(default_factory=VirtualServiceSpec)


class DestinationRule(IstioResource):
    kind_name: ClassVar[str] = "DestinationRule"
    plural: ClassVar[str] = "destinationrules"
    short_names: ClassVar[tuple[str, ...]] = ("dr",)
    spec: DestinationRuleSpec = Field(default_factory=DestinationRuleSpec)


class Gateway(IstioResource):
    kind_name: ClassVar[str] = "Gateway"
    plural: ClassVar[str] = "gateways"
    short_names: ClassVar[tuple[str, ...]] = ("gw",)
    spec: GatewaySpec = Field(default_factory=GatewaySpec)


class ServiceEntry(IstioResource):
    kind_name: ClassVar[str] = "ServiceEntry"
    plural: ClassVar[str] = "serviceentries"
    short_names: ClassVar[tuple[str, ...]] = ("se",)
    spec: ServiceEntrySpec = Field(default_factory=ServiceEntrySpec)


class EnvoyFilter(IstioResource):
    """Served at v1alpha3 only, with no short name (Istio's CRD declares neither more)."""

    kind_name: ClassVar[str] = "EnvoyFilter"
    plural: ClassVar[str] = "envoyfilters"
    api_versions: ClassVar[tuple[str, ...]] = ("v1alpha3",)
    spec: EnvoyFilterSpec = Field(default_factory=EnvoyFilterSpec)


class GatewayHTTPRoute(IstioResource):
    """Gateway API's HTTPRoute (gateway.networking.k8s.io), served at v1 (stored) and v1beta1
    as the CRD of gateway-api v1.5.1 declares them (no short name)."""

    kind_name: ClassVar[str] = "HTTPRoute"
    group: ClassVar[str] = GATEWAY_GROUP
    plural: ClassVar[str] = "httproutes"
    api_versions: ClassVar[tuple[str, ...]] = ("v1", "v1beta1")
    spec: HTTPRouteSpec = Field(default_factory=HTTPRouteSpec)


# The kinds experiments apply and the cluster backend manages (and sweeps) as Istio config.
RESOURCE_TYPES: dict[str, type[IstioResource]] = {
    cls.kind_name: cls for cls in (VirtualService, DestinationRule, Gateway, ServiceEntry)
}
# Every kind chaoskit reads, validates and serves: EnvoyFilter is not an experiment's
# resource (the cluster backend writes its own for replica faults), but the embedded API
# server serves it and ``chaoskit analyze`` checks it. HTTPRoute is applied and served by the
# embedded mesh only: a cluster may not have Gateway API's CRDs, so the cluster backend's
# sweeps and listings keep to Istio's kinds.
LOADABLE_TYPES: dict[str, type[IstioResource]] = {
    **RESOURCE_TYPES,
    "EnvoyFilter": EnvoyFilter,
    "HTTPRoute": GatewayHTTPRoute,
}
# The API groups served, each with its versions, newest first.
GROUP_VERSIONS: dict[str, tuple[str, ...]] = {
    GROUP: API_VERSIONS,
    GATEWAY_GROUP: GatewayHTTPRoute.api_versions,
}


def group_of(plural: str) -> str:
    """The API group of a kind by its plural (Istio's for a name chaoskit does not know)."""
    cls = next((c for c in LOADABLE_TYPES.values() if c.plural == plural), None)
    return cls.group if cls is not None else GROUP


def resource_type_for(name: str) -> type[IstioResource] | None:
    """Find a kind by its Kind, plural or short name (``VirtualService``, ``vs``)."""
    lowered = name.lower()
    for cls in LOADABLE_TYPES.values():
        if lowered in (cls.kind_name.lower(), cls.plural, *cls.short_names):
            return cls
    return None
