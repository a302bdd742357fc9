"""EnvoyFilter (networking.istio.io/v1alpha3): patches to the Envoy config istiod generates.

Field names and enums follow istio/api ``networking/v1alpha3/envoy_filter.proto`` and the
CRD schema (istio/istio 1.28.10 ``manifests/charts/base/files/crd-all.gen.yaml``). A patch's
``value`` is a free-form struct (``x-kubernetes-preserve-unknown-fields``): the CRD keeps
it as given, and Istio's webhook checks it against Envoy's protos
(``chaoskit.istio.validation.envoy_filter``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chaoskit.istio._base import IstioModel

ApplyTo = Literal[
    "INVALID",
    "LISTENER",
    "FILTER_CHAIN",
    "NETWORK_FILTER",
    "HTTP_FILTER",
    "ROUTE_CONFIGURATION",
    "VIRTUAL_HOST",
    "HTTP_ROUTE",
    "CLUSTER",
    "EXTENSION_CONFIG",
    "BOOTSTRAP",
    "LISTENER_FILTER",
]
PatchContext = Literal["ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY"]
Operation = Literal[
    "INVALID", "MERGE", "ADD", "REMOVE", "INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST", "REPLACE"
]
FilterClass = Literal["UNSPECIFIED", "AUTHN", "AUTHZ", "STATS"]
RouteAction = Literal["ANY", "ROUTE", "REDIRECT", "DIRECT_RESPONSE"]


class SubFilterMatch(IstioModel):
    name: str | None = None


class FilterMatch(IstioModel):
    name: str | None = None
    sub_filter: SubFilterMatch | None = None


class FilterChainMatch(IstioModel):
    name: str | None = None
    sni: str | None = None
    transport_protocol: str | None = None
    application_protocols: str | None = None
    filter: FilterMatch | None = None
    destination_port: int | None = Field(default=None, ge=0, le=4294967295)


class ListenerMatch(IstioModel):
    port_number: int | None = Field(default=None, ge=0, le=4294967295)
    port_name: str | None = None
    filter_chain: FilterChainMatch | None = None
    listener_filter: str | None = None
    name: str | None = None


class RouteMatch(IstioModel):
    name: str | None = None
    action: RouteAction | None = None


class VirtualHostMatch(IstioModel):
    name: str | None = None
    domain_name: str | None = None
    route: RouteMatch | None = None


class RouteConfigurationMatch(IstioModel):
    port_number: int | None = Field(default=None, ge=0, le=4294967295)
    port_name: str | None = None
    gateway: str | None = None
    vhost: VirtualHostMatch | None = None
    name: str | None = None


class ClusterMatch(IstioModel):
    port_number: int | None = Field(default=None, ge=0, le=4294967295)
    service: str | None = None
    subset: str | None = None
    name: str | None = None


class ProxyMatch(IstioModel):
    proxy_version: str | None = None
    metadata: dict[str, str] | None = None


class EnvoyConfigObjectMatch(IstioModel):
    context: PatchContext | None = None
    proxy: ProxyMatch | None = None
    listener: ListenerMatch | None = None
    route_configuration: RouteConfigurationMatch | None = None
    cluster: ClusterMatch | None = None

    @property
    def object_types(self) -> tuple[str, ...]:
        """The oneof ``object_types`` members that are set (the CRD allows at most one)."""
        return tuple(
            name
            for name, value in (
                ("listener", self.listener),
                ("routeConfiguration", self.route_configuration),
                ("cluster", self.cluster),
            )
            if value is not None
        )


class Patch(IstioModel):
    operation: Operation | None = None
    value: dict[str, Any] | None = None
    filter_class: FilterClass | None = None


class EnvoyConfigObjectPatch(IstioModel):
    apply_to: ApplyTo | None = None
    match: EnvoyConfigObjectMatch | None = None
    patch: Patch | None = None


class EnvoyFilterWorkloadSelector(IstioModel):
    """networking.v1alpha3.WorkloadSelector: a ``labels`` map (no ``matchLabels``)."""

    labels: dict[str, str] | None = None


class PolicyTargetReference(IstioModel):
    group: str | None = None
    kind: str = ""
    name: str = ""
    namespace: str | None = None


class EnvoyFilterSpec(IstioModel):
    workload_selector: EnvoyFilterWorkloadSelector | None = None
    target_refs: list[PolicyTargetReference] | None = None
    # A null item is kept, so the webhook's "null config patch" can name it.
    config_patches: list[EnvoyConfigObjectPatch | None] | None = None
    priority: int | None = None


__all__ = [
    "ClusterMatch",
    "EnvoyConfigObjectMatch",
    "EnvoyConfigObjectPatch",
    "EnvoyFilterSpec",
    "EnvoyFilterWorkloadSelector",
    "FilterChainMatch",
    "FilterMatch",
    "ListenerMatch",
    "Patch",
    "PolicyTargetReference",
    "ProxyMatch",
    "RouteConfigurationMatch",
    "SubFilterMatch",
    "VirtualHostMatch",
]
