"""VirtualService routes to a subset no DestinationRule defines, found when applied.

Istio accepts such a VirtualService (the webhook validates one resource at a time), and
``istioctl analyze`` reports it as IST0101 (``ReferencedResourceNotFound``: "Referenced
host+subset in destinationrule not found"). istiod then builds no cluster for the subset,
so every call routed there gets Envoy's local reply 503 with response flag ``NC``
(cluster not found). An experiment hears about it when it applies the config, and its
windows count those replies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_SUFFIX = ".svc.cluster.local"


def _fqdn(host: str, namespace: str) -> str:
    if host.endswith(_SUFFIX) or "*" in host:
        return host
    parts = host.split(".")
    if len(parts) == 1:
        return f"{host}.{namespace}{_SUFFIX}"
    if len(parts) == 2:
        return f"{host}{_SUFFIX}"
    return host


def _destinations(vs: dict[str, Any]) -> Iterable[dict[str, Any]]:
    spec = vs.get("spec") or {}
    for kind in ("http", "tcp", "tls"):
        for rule in spec.get(kind) or []:
            for route in rule.get("route") or []:
                if isinstance(route.get("destination"), dict):
                    yield route["destination"]
            mirror = rule.get("mirror")
            if isinstance(mirror, dict):
                yield mirror


def missing_subsets(in_force: list[dict[str, Any]], applied: list[dict[str, Any]]) -> list[str]:
    """One line per (VirtualService, host, subset) of ``applied`` that no DestinationRule
    in ``in_force`` defines."""
    defined: dict[str, set[str]] = {}
    for dr in in_force:
        if dr.get("kind") != "DestinationRule":
            continue
        namespace = dr.get("metadata", {}).get("namespace", "default")
        spec = dr.get("spec") or {}
        host = _fqdn(str(spec.get("host", "")), namespace)
        names = {str(s.get("name")) for s in spec.get("subsets") or []}
        defined.setdefault(host, set()).update(names)
    found: list[str] = []
    for vs in applied:
        if vs.get("kind") != "VirtualService":
            continue
        meta = vs.get("metadata", {})
        namespace = meta.get("namespace", "default")
        for destination in _destinations(vs):
            subset = destination.get("subset")
            if not subset:
                continue
            host = _fqdn(str(destination.get("host", "")), namespace)
            if subset in defined.get(host, set()):
                continue
            have = sorted(defined.get(host, set()))
            line = (
                f"VirtualService {namespace}/{meta.get('name')} routes to subset {subset!r} of "
                f"{destination.get('host')}, which no DestinationRule defines (IST0101; "
                f"defined: {', '.join(have) or 'none'}): Istio accepts it, and every call "
                "routed there gets a 503 with Envoy's flag NC (cluster not found)"
            )
            if line not in found:
                found.append(line)
    return found
