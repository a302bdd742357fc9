"""Where the mutation operators find what they weaken in an Istio object (a plain dict)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Object = dict[str, Any]


def http_routes(obj: Object) -> Iterator[Object]:
    """Every HTTP route of a VirtualService."""
    if obj.get("kind") == "VirtualService":
        yield from (obj.get("spec") or {}).get("http") or []


def traffic_policies(obj: Object) -> Iterator[Object]:
    """Every traffic policy of a DestinationRule: top level, per port, per subset."""
    if obj.get("kind") != "DestinationRule":
        return
    spec = obj.get("spec") or {}
    holders = [spec, *(spec.get("subsets") or [])]
    for holder in holders:
        policy = holder.get("trafficPolicy")
        if policy:
            yield policy
            yield from policy.get("portLevelSettings") or []


def outlier_detections(obj: Object) -> Iterator[Object]:
    for policy in traffic_policies(obj):
        outlier = policy.get("outlierDetection")
        if isinstance(outlier, dict):
            yield outlier


def http_pools(obj: Object) -> Iterator[Object]:
    """The ``connectionPool.http`` settings of every traffic policy."""
    for policy in traffic_policies(obj):
        http = (policy.get("connectionPool") or {}).get("http")
        if isinstance(http, dict):
            yield http


def fault_percentages(obj: Object) -> Iterator[Object]:
    """The ``percentage`` of every delay and abort fault (``{"value": 10}``)."""
    for route in http_routes(obj):
        fault = route.get("fault") or {}
        for part in (fault.get("delay"), fault.get("abort")):
            if isinstance(part, dict) and isinstance(part.get("percentage"), dict):
                yield part["percentage"]
