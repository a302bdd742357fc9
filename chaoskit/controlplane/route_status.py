"""The ``status`` istiod writes on an HTTPRoute: one entry per parentRef, with its conditions.

istio/istio 1.30.3 ``pilot/pkg/config/kube/gateway/conditions.go`` (``createRouteStatus``):
every parent gets ``Accepted`` ("Route was valid") and ``ResolvedRefs`` ("All references
resolved"); a route error (an unsupported filter, a backend that does not exist) turns
``ResolvedRefs`` False with its reason, since Gateway API has no condition for general route
errors; a parent that binds nothing turns ``Accepted`` False. With ambient enabled there is
also ``ResolvedWaypoints``. The embedded API server computes it when the route is read
(services do not change while a mesh runs, so it is what istiod would have written).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from chaoskit.controlplane.gateway_api import route_problems
from chaoskit.controlplane.store import JsonObject
from chaoskit.istio.resources import GatewayHTTPRoute
from chaoskit.topology.spec import CLUSTER_DOMAIN

CONTROLLER_NAME = "istio.io/gateway-controller"  # features.ManagedGatewayController


def _condition(kind: str, ok: bool, reason: str, message: str, generation: int) -> JsonObject:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": "",
    }


def _missing_backends(route: GatewayHTTPRoute, namespace: str, hosts: Collection[str]) -> str:
    """buildDestination's InvalidDestinationNotFound message for the first missing Service."""
    for rule in route.spec.rules:
        for ref in rule.backend_refs or ():
            if not ref.is_service:
                continue
            fqdn = f"{ref.name}.{ref.namespace or namespace}.{CLUSTER_DOMAIN}"
            if fqdn not in hosts:
                return f"backend({fqdn}) not found"
    return ""


def http_route_status(
    body: JsonObject, hosts: Collection[str], ambient: bool, created_at: str
) -> dict[str, Any]:
    """``status.parents`` of the stored HTTPRoute ``body``; ``hosts``: the registry's FQDNs."""
    route = GatewayHTTPRoute.model_validate(body)
    meta = body.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    generation = int(meta.get("generation") or 1)
    problems = {(p.parent.name, p.parent.kind): p for p in route_problems(route)}
    missing = _missing_backends(route, namespace, hosts)
    parents = []
    for parent in route.spec.parent_refs or ():
        problem = problems.get((parent.name, parent.kind))
        accepted = problem is None or problem.condition != "Accepted"
        resolved_error = (
            (problem.reason, problem.message)
            if problem is not None and problem.condition == "ResolvedRefs"
            else ("BackendNotFound", missing)
            if missing
            else None
        )
        conditions = [
            _condition(
                "Accepted",
                accepted,
                "Accepted" if accepted else problem.reason if problem else "",
                "Route was valid" if accepted else problem.message if problem else "",
                generation,
            ),
            _condition(
                "ResolvedRefs",
                resolved_error is None,
                resolved_error[0] if resolved_error else "ResolvedRefs",
                resolved_error[1] if resolved_error else "All references resolved",
                generation,
            ),
        ]
        if ambient:
            conditions.append(
                _condition(
                    "ResolvedWaypoints",
                    True,
                    "ResolvedWaypoints",
                    "All waypoints resolved",
                    generation,
                )
            )
        for condition in conditions:
            condition["lastTransitionTime"] = created_at
        parents.append(
            {
                "parentRef": parent.to_yaml_dict(),
                "controllerName": CONTROLLER_NAME,
                "conditions": conditions,
            }
        )
    return {"parents": parents}
