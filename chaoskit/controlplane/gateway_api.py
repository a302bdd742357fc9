"""Gateway API HTTPRoutes → the VirtualServices istiod derives from them.

istiod does not route HTTPRoutes directly: it converts each one into internal VirtualService
configs carrying the ``internal.istio.io/route-semantics: gateway`` annotation, which then go
through the same route translation as user VirtualServices (istio/istio, tag 1.30.3,
``pilot/pkg/config/kube/gateway/route_collections.go``, ``HTTPRouteCollection``, and
``conversion.go``, ``convertHTTPRoute``). This module is that conversion, for the parents the
embedded mesh has:

- a ``Service`` parentRef (GAMMA, the mesh): one VirtualService for the service's FQDN,
  bound to ``mesh``, so sidecars apply it as callers and, in ambient mode, the service's
  waypoint applies it (it reads mesh VirtualServices for the host). A parentRef ``port``
  adds a port match to every route (``augmentPortMatch``).
- a ``Gateway`` parentRef (north-south through a Gateway API Gateway): the embedded mesh runs
  no Gateway API gateway, so such a parent binds nothing, as istiod binds nothing to a
  Gateway that does not exist; :func:`unbound_parents` names them for ``chaoskit analyze``.

Rules are split to one match each and kept in the route's order, then sorted as Gateway API
precedence asks (``sortHTTPRoutes``: exact path before prefix before regex, longer first,
then method, header count, query count). A filter istiod does not support (``ExtensionRef``,
``ExternalAuth``) is a hard error of the whole route for that parent: it gets no routes, and
its status says ``ResolvedRefs: False, InvalidFilter`` (:func:`route_problems`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chaoskit.controlplane.model import Ordered
from chaoskit.istio.http_route import (
    HeaderModifier,
    HTTPBackendRef,
    HTTPRouteFilter,
    HTTPRouteMatch,
    HTTPRouteRule,
    ParentReference,
)
from chaoskit.istio.resources import GatewayHTTPRoute, VirtualService
from chaoskit.topology.spec import CLUSTER_DOMAIN

# The filters convertHTTPRoute translates (conversion.go, tag 1.30.3); any other type is an
# "unsupported filter type" error for the route.
SUPPORTED_FILTERS = frozenset(
    {
        "RequestHeaderModifier",
        "ResponseHeaderModifier",
        "RequestRedirect",
        "RequestMirror",
        "URLRewrite",
        "CORS",
    }
)
# Connection-level failures Istio retries on whenever an HTTPRoute has a retry stanza
# ("Implementations SHOULD retry on connection errors", conversion.go convertHTTPRoute).
RETRY_ON_CONNECTION_ERRORS = ("connect-failure", "refused-stream", "unavailable", "cancelled")
# When retry.attempts is unset, Istio uses its default retry count (conversion.go).
DEFAULT_RETRY_ATTEMPTS = 2


class UnsupportedFilter(Exception):
    """conversion.go's InvalidFilter ConfigError: the route is dropped for the parent."""


@dataclass(frozen=True, slots=True)
class ParentProblem:
    """Why an HTTPRoute parent got no routes, as its status conditions would say."""

    parent: ParentReference
    condition: str  # "Accepted" or "ResolvedRefs"
    reason: str
    message: str


def _service_fqdn(name: str, namespace: str) -> str:
    return f"{name}.{namespace}.{CLUSTER_DOMAIN}"


def _headers(modifier: HeaderModifier | None) -> dict[str, Any] | None:
    """createHeadersFilter: set/add as maps (lower-cased names, the first entry wins)."""
    if modifier is None:
        return None

    def as_map(entries: list[Any] | None) -> dict[str, str] | None:
        out: dict[str, str] = {}
        for header in entries or ():
            out.setdefault(header.name.lower(), header.value)
        return out or None

    ops: dict[str, Any] = {}
    for key, value in (
        ("set", as_map(modifier.set)),
        ("add", as_map(modifier.add)),
        ("remove", modifier.remove or None),
    ):
        if value:
            ops[key] = value
    return ops


def _uri(match: HTTPRouteMatch) -> dict[str, str]:
    """createURIMatch: a trailing ``/`` of a PathPrefix is ignored (except ``/`` itself)."""
    path = match.path
    if path.type == "Exact":
        return {"exact": path.value}
    if path.type == "RegularExpression":
        return {"regex": path.value}
    value = path.value if path.value == "/" else path.value.removesuffix("/")
    return {"prefix": value}


def _match(match: HTTPRouteMatch, port: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"uri": _uri(match)}
    for key, entries in (("headers", match.headers), ("queryParams", match.query_params)):
        if entries:
            out[key] = {
                e.name: ({"exact": e.value} if e.type == "Exact" else {"regex": e.value})
                for e in entries
            }
    if match.method is not None:
        out["method"] = {"exact": match.method}
    if port is not None:
        out["port"] = port
    return out


def _destination(ref: HTTPBackendRef | Any, namespace: str) -> dict[str, Any]:
    host = _service_fqdn(ref.name, ref.namespace or namespace) if ref.is_service else ref.name
    dest: dict[str, Any] = {"host": host}
    if ref.port is not None:
        dest["port"] = {"number": ref.port}
    return dest


def _backends(refs: list[HTTPBackendRef], namespace: str) -> list[dict[str, Any]]:
    """buildHTTPDestination: weight-0 backends dropped; a single backend takes all traffic."""
    kept = [r for r in refs if r.weight > 0]
    out = []
    for ref in kept:
        entry: dict[str, Any] = {"destination": _destination(ref, namespace)}
        if len(kept) > 1:
            entry["weight"] = ref.weight
        headers: dict[str, Any] = {}
        for f in ref.filters or ():
            if f.type == "RequestHeaderModifier":
                headers["request"] = _headers(f.request_header_modifier)
            elif f.type == "ResponseHeaderModifier":
                headers["response"] = _headers(f.response_header_modifier)
            else:
                raise UnsupportedFilter(f"unsupported filter type {f.type!r}")
        if headers:
            entry["headers"] = headers
        out.append(entry)
    return out


def _apply_filter(route: dict[str, Any], f: HTTPRouteFilter, namespace: str) -> None:
    if f.type not in SUPPORTED_FILTERS:
        raise UnsupportedFilter(f"unsupported filter type {f.type!r}")
    if f.type == "RequestHeaderModifier":
        route.setdefault("headers", {})["request"] = _headers(f.request_header_modifier)
    elif f.type == "ResponseHeaderModifier":
        route.setdefault("headers", {})["response"] = _headers(f.response_header_modifier)
    elif f.type == "RequestRedirect" and f.request_redirect is not None:
        r = f.request_redirect
        redirect: dict[str, Any] = {"redirectCode": r.status_code}
        if r.hostname:
            redirect["authority"] = r.hostname
        if r.scheme:
            redirect["scheme"] = r.scheme
        if r.port is not None:
            redirect["port"] = r.port
        if r.path is not None and r.path.type == "ReplaceFullPath":
            redirect["uri"] = r.path.replace_full_path or ""
        route["redirect"] = redirect
    elif f.type == "RequestMirror" and f.request_mirror is not None:
        m = f.request_mirror
        mirror: dict[str, Any] = {"destination": _destination(m.backend_ref, namespace)}
        if m.fraction is not None:
            mirror["percentage"] = {"value": 100 * m.fraction.numerator / m.fraction.denominator}
        elif m.percent is not None:
            mirror["percentage"] = {"value": float(m.percent)}
        route.setdefault("mirrors", []).append(mirror)
    elif f.type == "URLRewrite" and f.url_rewrite is not None:
        rewrite: dict[str, Any] = {}
        path = f.url_rewrite.path
        if path is not None and path.type == "ReplacePrefixMatch":
            rewrite["uri"] = (path.replace_prefix_match or "").removesuffix("/") or "/"
        elif path is not None and path.type == "ReplaceFullPath":
            rewrite["uriRegexRewrite"] = {"match": "/.*", "rewrite": path.replace_full_path or ""}
        if f.url_rewrite.hostname:
            rewrite["authority"] = f.url_rewrite.hostname
        if rewrite:
            route["rewrite"] = rewrite
    # CORS: translated by Istio into a corsPolicy; the embedded mesh does not emulate CORS
    # (it answers no preflights), so the filter is accepted and has no effect here.


def convert_rule(
    rule: HTTPRouteRule,
    match: HTTPRouteMatch,
    name: str,
    namespace: str,
    port: int | None,
) -> dict[str, Any]:
    """convertHTTPRoute for one rule with one match, as a VirtualService ``http`` entry."""
    route: dict[str, Any] = {"name": name, "match": [_match(match, port)]}
    for f in rule.filters or ():
        _apply_filter(route, f, namespace)
    retries: dict[str, Any] | None = None
    if rule.retry is not None:
        attempts = (
            rule.retry.attempts if rule.retry.attempts is not None else DEFAULT_RETRY_ATTEMPTS
        )
        retry_on = [*RETRY_ON_CONNECTION_ERRORS, *(str(c) for c in rule.retry.codes or ())]
        retries = {"attempts": attempts}
        if attempts != 0:  # "Invalid to set this when there are no attempts"
            retries["retryOn"] = ",".join(retry_on)
        if rule.retry.backoff is not None:
            retries["backoff"] = rule.retry.backoff.text
    timeouts = rule.timeouts
    if timeouts is not None and timeouts.request is not None and timeouts.request.nanos:
        route["timeout"] = timeouts.request.text
    if timeouts is not None and timeouts.backend_request is not None:
        backend = timeouts.backend_request
        if backend.nanos:
            # backendRequest is the per-try timeout when the rule retries; without a retry
            # stanza it replaces the route timeout (conversion.go, convertHTTPRoute).
            if retries is not None:
                retries["perTryTimeout"] = backend.text
            else:
                route["timeout"] = backend.text
    if retries is not None:
        route["retries"] = retries
    refs = rule.backend_refs or []
    if sum(r.weight for r in refs) == 0 and "redirect" not in route:
        # No backends: 404; backends all at weight 0: 500 (Gateway API spec, conversion.go).
        route["directResponse"] = {"status": 404 if not refs else 500}
    elif refs:
        route["route"] = _backends(refs, namespace)
    return route


def _uri_rank(route: dict[str, Any]) -> tuple[int, int]:
    """getURIRank/getURILength: exact 3, prefix 2, regex 1; then the longer value."""
    uri = route["match"][0].get("uri") or {}
    for rank, key in ((3, "exact"), (2, "prefix"), (1, "regex")):
        if key in uri:
            return rank, len(uri[key])
    return -1, 0


def sort_routes(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """sortHTTPRoutes (conversion.go): a stable sort by Gateway API match precedence."""

    def key(route: dict[str, Any]) -> tuple[int, int, int, int, int]:
        match = route["match"][0]
        rank, length = _uri_rank(route)
        return (
            -rank,
            -length,
            0 if "method" in match else 1,
            -len(match.get("headers") or {}),
            -len(match.get("queryParams") or {}),
        )

    return sorted(routes, key=key)


def mesh_routes(route: GatewayHTTPRoute, namespace: str, port: int | None) -> list[dict[str, Any]]:
    """Every rule of ``route``, split to one match each, sorted; raises UnsupportedFilter."""
    out = []
    for n, rule in enumerate(route.spec.rules):
        name = rule.name or f"{namespace}.{route.name}.{n}"
        for match in rule.matches or [HTTPRouteMatch()]:
            out.append(convert_rule(rule, match, name, namespace, port))
    return sort_routes(out)


def virtual_services(ordered: Ordered[GatewayHTTPRoute]) -> list[Ordered[VirtualService]]:
    """The mesh VirtualServices istiod derives from one HTTPRoute (one per Service parent)."""
    route, namespace = ordered.resource, ordered.namespace
    out: list[Ordered[VirtualService]] = []
    for count, parent in enumerate(p for p in route.spec.parent_refs or () if p.is_service):
        try:
            http = mesh_routes(route, namespace, parent.port)
        except UnsupportedFilter:
            continue  # the whole route is dropped for the parent (computeRoute's hard error)
        host = _service_fqdn(parent.name, parent.namespace or namespace)
        vs = VirtualService.model_validate(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "VirtualService",
                # istiod names them <route>~<n>~gateway.networking.k8s.io... ; the name shows
                # in access logs and route names as the VirtualService's.
                "metadata": {"name": f"{route.name}~{count}", "namespace": namespace},
                "spec": {"hosts": [host], "gateways": ["mesh"], "http": http},
            }
        )
        out.append(Ordered(vs, namespace, ordered.order, gateway_api=True))
    return out


def route_problems(route: GatewayHTTPRoute) -> list[ParentProblem]:
    """The parents of ``route`` that get no routes in the embedded mesh, and why."""
    problems: list[ParentProblem] = []
    for parent in route.spec.parent_refs or ():
        if not parent.is_service:
            problems.append(
                ParentProblem(
                    parent,
                    "Accepted",
                    "NoMatchingParent",
                    f"parent {parent.kind} {parent.name!r} is not emulated: chaoskit's embedded "
                    "mesh runs no Gateway API gateway; attach the route to a Service "
                    "(parentRefs: group '', kind Service) for mesh traffic",
                )
            )
            continue
        try:
            mesh_routes(route, "default", parent.port)
        except UnsupportedFilter as exc:
            problems.append(ParentProblem(parent, "ResolvedRefs", "InvalidFilter", str(exc)))
    return problems
