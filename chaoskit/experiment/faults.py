"""Istio objects for injected faults, built onto whatever config is already in force.

Istio allows one mesh VirtualService per host (two conflict: IST0109), so a fault on a
service with a VirtualService is written *into* that VirtualService, as Istio's
fault-injection task does: header-scoped faults go in copies of its routes placed first
(first match wins), unscoped ones on every route. Without one, chaoskit creates a
VirtualService that routes to the service as the default route would.
"""

from __future__ import annotations

import copy
from typing import Any

API_VERSION = "networking.istio.io/v1"


def configured_percent(kind: str, spec: dict[str, Any]) -> float:
    """The share of requests a VirtualService delay/abort acts on, as Istio compiles it.

    Istio's ``TranslateFault`` (istio/istio pilot/pkg/networking/core/route/route.go, tag
    1.28.9): ``percentage`` wins and is truncated to parts per million; a delay without it
    uses the deprecated integer ``percent``; an abort without it, or a delay with neither,
    acts on 0 % of requests (the fields default to 0, not 100).
    """
    if "percentage" in spec:
        value = float((spec.get("percentage") or {}).get("value", 0) or 0)
    elif kind == "delay" and spec.get("percent") is not None:
        value = float(spec["percent"])
    else:
        return 0.0
    return int(value * 10_000) / 10_000


def _short(host: str) -> str:
    return host.split(".")[0]


def targets(obj: dict[str, Any], service: str, namespace: str) -> bool:
    """Does a VirtualService or DestinationRule in force for ``namespace`` name ``service``?"""
    spec = obj.get("spec") or {}
    if obj["metadata"].get("namespace", "default") != namespace:
        return False
    hosts = spec.get("hosts") or [spec.get("host", "")]
    gateways = spec.get("gateways") or []
    if obj.get("kind") == "VirtualService" and gateways and "mesh" not in gateways:
        return False  # a gateway-only VirtualService is not what sidecars use
    names = {service, f"{service}.{namespace}", f"{service}.{namespace}.svc.cluster.local"}
    return any(h in names for h in hosts)


def http_routes_for(objects: list[dict[str, Any]], service: str, namespace: str) -> list[str]:
    """The HTTPRoutes (``ns/name``) attached to ``service`` as their parent Service (GAMMA)."""
    found = []
    for obj in objects:
        if obj.get("kind") != "HTTPRoute":
            continue
        route_ns = obj["metadata"].get("namespace", "default")
        for parent in (obj.get("spec") or {}).get("parentRefs") or ():
            if (
                parent.get("group") == ""
                and parent.get("kind") == "Service"
                and parent.get("name") == service
                and parent.get("namespace", route_ns) == namespace
            ):
                found.append(f"{route_ns}/{obj['metadata']['name']}")
                break
    return found


def fault_spec(
    kind: str, percent: float, fixed_delay: str | None = None, http_status: int | None = None
) -> dict[str, Any]:
    if kind == "delay":
        return {"delay": {"percentage": {"value": percent}, "fixedDelay": fixed_delay}}
    return {"abort": {"percentage": {"value": percent}, "httpStatus": http_status}}


def with_fault(
    existing: dict[str, Any] | None,
    service: str,
    namespace: str,
    fault: dict[str, Any],
    headers: dict[str, str] | None,
    route_name: str,
) -> dict[str, Any]:
    """The VirtualService that adds ``fault`` for ``service`` (scoped to ``headers``)."""
    header_match = {k.lower(): {"exact": v} for k, v in (headers or {}).items()}
    if existing is None:
        destination = [{"destination": {"host": service}}]
        faulty: dict[str, Any] = {"name": route_name, "fault": fault, "route": destination}
        http = [faulty]
        if header_match:
            faulty["match"] = [{"headers": header_match}]
            http.append({"name": "default", "route": copy.deepcopy(destination)})
        return {
            "apiVersion": API_VERSION,
            "kind": "VirtualService",
            "metadata": {"name": f"chaoskit-{service}", "namespace": namespace},
            "spec": {"hosts": [service], "http": http},
        }
    vs = copy.deepcopy(existing)
    routes: list[dict[str, Any]] = vs["spec"].setdefault("http", [])
    if header_match:
        scoped = []
        for route in routes:
            twin = copy.deepcopy(route)
            twin["name"] = route_name
            twin["fault"] = {**(route.get("fault") or {}), **fault}
            matches = route.get("match") or [{}]
            twin["match"] = [
                {**m, "headers": {**(m.get("headers") or {}), **header_match}} for m in matches
            ]
            scoped.append(twin)
        vs["spec"]["http"] = scoped + routes
    else:
        for route in routes:
            route["fault"] = {**(route.get("fault") or {}), **fault}
    return vs


def with_pool_limits(
    existing: dict[str, Any] | None, service: str, namespace: str, pool: dict[str, Any]
) -> dict[str, Any]:
    """The DestinationRule whose top-level connectionPool is squeezed to ``pool``."""
    if existing is None:
        return {
            "apiVersion": API_VERSION,
            "kind": "DestinationRule",
            "metadata": {"name": f"chaoskit-{service}", "namespace": namespace},
            "spec": {"host": service, "trafficPolicy": {"connectionPool": pool}},
        }
    dr = copy.deepcopy(existing)
    policy = dr["spec"].setdefault("trafficPolicy", {})
    policy["connectionPool"] = pool
    return dr
