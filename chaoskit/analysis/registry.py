"""What the analyzer knows about the mesh: services, workloads and secrets, if anything."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chaoskit.istio.loading import LoadedResource
from chaoskit.istio.resources import ServiceEntry
from chaoskit.topology.spec import CLUSTER_DOMAIN, MeshSpec, Service, Workload


def to_fqdn(host: str, namespace: str) -> str:
    """Istio's short-name rule: a host with no dot is ``<host>.<namespace>.svc.cluster.local``.

    Names with a dot are taken as written (Istio's ResolveShortnameToFQDN), and the
    namespace is that of the resource naming the host, not of the service.
    """
    if "." in host or host.startswith("*"):
        return host
    return f"{host}.{namespace}.{CLUSTER_DOMAIN}"


HOSTNAME_LABEL = "kubernetes.io/hostname"
TOPOLOGY_LABELS = (
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
)


def service_visible(service: Service, lookup: set[str]) -> bool:
    scopes = {service.namespace if e == "." else e for e in service.export_to} or {"*"}
    return bool(scopes & ({"*"} | lookup))


def lookup_scopes(namespace: str, export_to: list[str] | None) -> set[str]:
    """The scopes istioctl looks a destination host up in (``GetDestinationHost``): the
    referring resource's namespace, or the namespaces of its own exportTo when it has one."""
    if not export_to:
        return {namespace}
    return {namespace if e == "." else e for e in export_to}


def host_matches(pattern: str, host: str) -> bool:
    """Gateway/VirtualService host matching: exact, ``*`` or a left-most ``*.`` label."""
    if pattern == "*" or pattern == host:
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    if host.startswith("*."):
        return pattern.endswith(host[1:])
    return False


@dataclass(slots=True)
class Registry:
    """Services known from the mesh spec (when given) and from ServiceEntries in the input.

    ``service_entry_hosts`` maps each ServiceEntry host to the namespaces it is exported to
    (``*`` for all), as istioctl's ``InitServiceEntryHostMap`` scopes them
    (istio/istio 1.28.10 ``pkg/config/analysis/analyzers/util/service_lookup.go``).
    """

    mesh: MeshSpec | None
    service_entry_hosts: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, mesh: MeshSpec | None, resources: Iterable[LoadedResource]) -> Registry:
        registry = cls(mesh)
        for loaded in resources:
            if isinstance(loaded.resource, ServiceEntry):
                export_to = loaded.resource.spec.export_to or ["*"]
                scopes = {loaded.namespace if e == "." else e for e in export_to}
                for host in loaded.resource.spec.hosts:
                    fqdn = to_fqdn(host, loaded.namespace)
                    registry.service_entry_hosts.setdefault(fqdn, set()).update(scopes)
        return registry

    @property
    def knows_workloads(self) -> bool:
        return self.mesh is not None

    def service(self, fqdn: str) -> Service | None:
        return self.mesh.services_by_fqdn.get(fqdn) if self.mesh else None

    def host_exists(
        self, fqdn: str, namespace: str | None = None, export_to: list[str] | None = None
    ) -> bool:
        """Whether ``fqdn`` is a service or a ServiceEntry host visible from ``namespace``.

        A Service is visible where its ``networking.istio.io/exportTo`` annotation says
        (istio/istio 1.28.10 ``pkg/config/analysis/analyzers/util/service_lookup.go``,
        ``getVisibleNamespacesFromExportToAnno``: none means all, ``.`` its own namespace, and
        an exported-to list without ``.`` leaves out even its own)."""
        lookup = lookup_scopes(namespace, export_to) if namespace is not None else None
        service = self.service(fqdn)
        if service is not None and (lookup is None or service_visible(service, lookup)):
            return True
        return any(
            host_matches(entry, fqdn) and (lookup is None or scopes & ({"*"} | lookup))
            for entry, scopes in self.service_entry_hosts.items()
        )

    def known_hosts(self) -> list[str]:
        hosts = set(self.service_entry_hosts)
        if self.mesh is not None:
            hosts.update(self.mesh.services_by_fqdn)
        return sorted(hosts)

    def workloads(self, service: Service) -> list[Workload]:
        return self.mesh.workloads_of(service) if self.mesh else []

    def workloads_matching(self, selector: dict[str, str]) -> list[Workload]:
        if self.mesh is None:
            return []
        return [w for w in self.mesh.spec.workloads if w.selected_by(selector)]

    def pod_labels(self, workload: Workload) -> dict[str, str]:
        """A pod's labels as Istio's registry sees them: the node's region, zone and subzone
        and the node's name added (pilot/pkg/serviceregistry/util/label/label.go
        ``AugmentLabels``, as destinationrule.PodNotSelectedAnalyzer applies it; empty node
        labels add nothing)."""
        if self.mesh is None or workload.node_name is None:
            return dict(workload.labels)
        node = next((n for n in self.mesh.spec.nodes if n.name == workload.node_name), None)
        augmented = dict(workload.labels)
        for key in TOPOLOGY_LABELS:
            value = (node.labels.get(key) if node is not None else None) or ""
            if value:
                augmented[key] = value
        augmented[HOSTNAME_LABEL] = workload.node_name
        return augmented

    def label_values(self, keys: list[str]) -> list[str]:
        """Every ``key=value`` the mesh's workloads carry for ``keys``."""
        if self.mesh is None:
            return []
        return sorted(
            {f"{k}={v}" for w in self.mesh.spec.workloads for k, v in w.labels.items() if k in keys}
        )

    def services_selecting(self, workloads: Iterable[Workload]) -> list[Service]:
        """Services (in the workload's namespace) whose selector picks any of ``workloads``."""
        if self.mesh is None:
            return []
        pods = list(workloads)
        return [
            s
            for s in self.mesh.spec.services
            if any(w.namespace == s.namespace and w.selected_by(s.effective_selector) for w in pods)
        ]

    def has_secret(self, namespace: str, name: str) -> bool:
        return self.mesh is not None and self.mesh.secret(namespace, name) is not None
