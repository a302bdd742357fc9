"""What the compiler reads: the mesh's services, pods and Istio resources, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from chaoskit.istio.resources import (
    DestinationRule,
    EnvoyFilter,
    Gateway,
    GatewayHTTPRoute,
    ServiceEntry,
    VirtualService,
)
from chaoskit.mesh.config import Compat
from chaoskit.topology.spec import CLUSTER_DOMAIN

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PodView:
    """A running replica: where it listens and what labels select it."""

    name: str
    namespace: str
    workload: str
    labels: tuple[tuple[str, str], ...]
    ip: str
    kind: str = "sidecar"  # or "gateway"
    running: bool = True
    # Port mode: pod port → its port on 127.0.0.1 (an Envoy endpoint is address:port).
    ports: tuple[tuple[int, int], ...] = ()

    def host_port(self, port: int) -> int:
        return dict(self.ports).get(port, port) if self.ports else port

    @property
    def proxy_id(self) -> str:
        return f"{self.name}.{self.namespace}"

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def selected_by(self, selector: dict[str, str]) -> bool:
        labels = self.label_map
        return all(labels.get(k) == v for k, v in selector.items())


@dataclass(frozen=True, slots=True)
class PortView:
    number: int
    target_port: int
    name: str = "http"
    protocol: str = "HTTP"


@dataclass(frozen=True, slots=True)
class ServiceView:
    """A host in the registry: a Kubernetes Service or a ServiceEntry host."""

    name: str
    namespace: str
    ports: tuple[PortView, ...]
    selector: tuple[tuple[str, str], ...] | None = None  # None: endpoints are listed
    static_endpoints: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    host: str = ""  # ServiceEntry host; Services use name.namespace.svc.cluster.local

    @property
    def fqdn(self) -> str:
        return self.host or f"{self.name}.{self.namespace}.{CLUSTER_DOMAIN}"

    def port(self, number: int) -> PortView | None:
        return next((p for p in self.ports if p.number == number), None)


@dataclass(frozen=True, slots=True)
class Ordered(Generic[T]):
    """A resource with its namespace and creation order (Istio breaks ties by age)."""

    resource: T
    namespace: str
    order: int
    # Derived by istiod from a Gateway API route (route-semantics: gateway), not user-written.
    gateway_api: bool = False


@dataclass(frozen=True, slots=True)
class TlsSecret:
    cert_pem: str
    key_pem: str


@dataclass(slots=True)
class MeshState:
    services: list[ServiceView] = field(default_factory=list)
    pods: list[PodView] = field(default_factory=list)
    virtual_services: list[Ordered[VirtualService]] = field(default_factory=list)
    destination_rules: list[Ordered[DestinationRule]] = field(default_factory=list)
    gateways: list[Ordered[Gateway]] = field(default_factory=list)
    service_entries: list[Ordered[ServiceEntry]] = field(default_factory=list)
    envoy_filters: list[Ordered[EnvoyFilter]] = field(default_factory=list)
    http_routes: list[Ordered[GatewayHTTPRoute]] = field(default_factory=list)
    secrets: dict[tuple[str, str], TlsSecret] = field(default_factory=dict)
    compat: Compat = field(default_factory=Compat)
    # Ambient namespaces → the waypoint each uses ("" for none: ztunnel only, L4).
    ambient: dict[str, str] = field(default_factory=dict)
    # Service FQDN → (namespace, name) of the waypoint serving traffic addressed to it: the
    # Service's own istio.io/use-waypoint, else its namespace's (topology/ambient.py).
    service_waypoints: dict[str, tuple[str, str]] = field(default_factory=dict)
