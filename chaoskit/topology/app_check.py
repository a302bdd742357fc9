"""Checks of the generic app's settings that need the whole spec: where its calls go.

The app itself validates the shape of its settings (behaviour.py, calls.py); only the spec
knows whether ``host: payments`` names a Service (resolved the way a pod's DNS search path
resolves it, from the calling workload's namespace) or a ServiceEntry host in
``spec.resources``, and whether that Service has the port. Checked when the spec is loaded,
so a typo in a call is one line naming the file, the workload and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

from chaoskit.mesh.apps.base import AppSettingsError
from chaoskit.mesh.apps.behaviour import Behaviour
from chaoskit.mesh.apps.calls import CALL_KEYS, Call, CallGraph

if TYPE_CHECKING:
    from chaoskit.topology.spec import MeshSpec, Service, Workload

GENERIC_APP = "echo"


def _candidates(host: str, namespace: str, services_domain: str) -> list[str]:
    """The FQDNs a pod in ``namespace`` may reach by ``host``: its resolv.conf search list is
    ``<ns>.svc.cluster.local svc.cluster.local cluster.local``."""
    cluster = services_domain.removeprefix("svc.")
    return [
        host,
        f"{host}.{namespace}.{services_domain}",
        f"{host}.{services_domain}",
        f"{host}.{cluster}",
    ]


def _entry_hosts(spec: MeshSpec) -> dict[str, set[int]]:
    """ServiceEntry hosts declared in the spec's resources, with their ports."""
    hosts: dict[str, set[int]] = {}
    for path in spec.resource_files():
        for body in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(body, dict) or body.get("kind") != "ServiceEntry":
                continue
            entry: dict[str, Any] = body.get("spec") or {}
            ports = {int(p["number"]) for p in entry.get("ports") or [] if "number" in p}
            for host in entry.get("hosts") or []:
                hosts.setdefault(str(host), set()).update(ports)
    return hosts


def _entry_match(host: str, entries: dict[str, set[int]]) -> set[int] | None:
    for pattern, ports in entries.items():
        if pattern == host or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return ports
    return None


def _call_problem(
    call: Call, workload: Workload, spec: MeshSpec, entries: dict[str, set[int]]
) -> str | None:
    from chaoskit.topology.spec import CLUSTER_DOMAIN

    by_fqdn = spec.services_by_fqdn
    service: Service | None = next(
        (
            by_fqdn[name]
            for name in _candidates(call.host, workload.namespace, CLUSTER_DOMAIN)
            if name in by_fqdn
        ),
        None,
    )
    if service is not None:
        ports = sorted(p.port for p in service.ports)
        if call.port not in ports:
            return (
                f"port {call.port} is not a port of Service {service.namespace}/"
                f"{service.name} (its ports: {', '.join(map(str, ports))})"
            )
        return None
    entry_ports = _entry_match(call.host, entries)
    if entry_ports is not None:
        if entry_ports and call.port not in entry_ports:
            return (
                f"port {call.port} is not a port of the ServiceEntry host {call.host} "
                f"(its ports: {', '.join(map(str, sorted(entry_ports)))})"
            )
        return None
    known = sorted(s.fqdn for s in spec.spec.services)
    return (
        f"host {call.host!r} is not a Service of the spec (from namespace "
        f"{workload.namespace}) nor a ServiceEntry host in spec.resources; known Services: "
        f"{', '.join(known) or 'none'}"
    )


def app_problems(spec: MeshSpec) -> Iterator[str]:
    """One line per bad setting of a generic-app workload: where it is and what is wrong."""
    entries: dict[str, set[int]] | None = None
    for index, workload in enumerate(spec.spec.workloads):
        if workload.app.name != GENERIC_APP:
            continue
        where = f"spec.workloads[{index}] ({workload.namespace}/{workload.name}): app.settings"
        settings = workload.app.settings
        try:
            Behaviour.parse(settings, CALL_KEYS)
            graph = CallGraph.parse(settings)
        except AppSettingsError as exc:
            yield f"{where}: {exc}"
            continue
        for number, call in enumerate(graph.calls):
            if entries is None:
                entries = _entry_hosts(spec)
            problem = _call_problem(call, workload, spec, entries)
            if problem is not None:
                yield f"{where}.calls[{number}]: {problem}"
