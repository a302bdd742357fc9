"""VirtualService HTTP rules → Envoy routes, as istiod's route translation does.

One HTTPRoute with N match blocks becomes N Envoy routes carrying the same action, in
order (pilot/pkg/networking/core/route/route.go), so first-match-wins over the list gives
"AND inside a match, OR across matches". ``sourceLabels``, ``port`` and ``gateways`` of a
match are not runtime conditions: they decide which proxies and listeners get the route.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chaoskit.analysis.registry import to_fqdn
from chaoskit.istio.common import (
    Destination,
    HeaderOperations,
    Headers as HeaderRules,
    Percent,
    StringMatch,
)
from chaoskit.istio.virtual_service import HTTPMatchRequest, HTTPRetry, HTTPRoute
from chaoskit.mesh.config import (
    MILLION,
    DirectResponse,
    FaultSpec,
    HeaderMatcher,
    HeaderMutation,
    MirrorSpec,
    QueryMatcher,
    Redirect,
    RetrySpec,
    Rewrite,
    Route,
    RouteMatch,
    StringMatcher,
    WeightedCluster,
)
from chaoskit.mesh.retry import istio_default_retry_policy, parse_retry_on

# Keys of HTTPMatchRequest.headers that Istio ignores (they have their own fields).
_PSEUDO_HEADER_KEYS = frozenset({"uri", "scheme", "method", "authority"})


def cluster_name(port: int, subset: str, fqdn: str) -> str:
    """Envoy cluster names as istiod builds them: ``outbound|9080|v1|reviews.ns.svc...``."""
    return f"outbound|{port}|{subset}|{fqdn}"


@dataclass(frozen=True, slots=True)
class RouteContext:
    """Where the routes go: the VS namespace, the listener port and the proxy that gets them."""

    vs_name: str
    vs_namespace: str
    listener_port: int
    proxy_namespace: str
    proxy_labels: dict[str, str]
    gateway: str | None  # "ns/name" when compiling for a gateway, None for sidecars
    include_503_in_default_retries: bool
    mirror_shadow_suffix: bool
    service_port: Callable[[str, int | None, int], int]  # (fqdn, dest port, listener port)
    # Istio >= 1.26 reads HTTPRetry.backoff and retryIgnorePreviousHosts (compat.py).
    retry_backoff_and_previous_hosts: bool = True
    # Does the destination's effective load balancer hash (Istio's LookupHash)?
    consistent_hash: Callable[[Destination], bool] = lambda _destination: False
    # Compiling for a waypoint: it serves every caller, so a match on the caller's labels
    # cannot hold and is dropped (listener_waypoint.go, waypointInboundRoute, tag 1.30.3).
    waypoint: bool = False
    # A VirtualService istiod derived from a Gateway API route: a PathPrefix matches whole
    # path segments (route.go translateRouteMatch: UseGatewaySemantics → PathSeparatedPrefix).
    gateway_semantics: bool = False


def string_matcher(match: StringMatch, *, ignore_case: bool = False) -> StringMatcher:
    if match.exact is not None:
        return StringMatcher("exact", match.exact, ignore_case)
    if match.prefix is not None:
        return StringMatcher("prefix", match.prefix, ignore_case)
    if match.regex is not None:
        # Istio treats regex "*" as "header present" (a common mistake it tolerates).
        return (
            StringMatcher("present") if match.regex == "*" else StringMatcher("regex", match.regex)
        )
    return StringMatcher("present")


def _path_matcher(match: HTTPMatchRequest, gateway_semantics: bool) -> StringMatcher:
    if match.uri is None:
        return StringMatcher("prefix", "/")
    prefix = match.uri.prefix
    if gateway_semantics and prefix is not None and prefix != "/":
        # Envoy's path_separated_prefix: the prefix itself or the prefix then "/": "/api"
        # matches /api and /api/v1, not /apiary.
        return StringMatcher("regex", re.escape(prefix.removesuffix("/")) + "(/.*)?")
    return string_matcher(match.uri, ignore_case=bool(match.ignore_uri_case))


def _route_match(match: HTTPMatchRequest | None, gateway_semantics: bool = False) -> RouteMatch:
    if match is None:
        return RouteMatch(path=StringMatcher("prefix", "/"))
    headers = tuple(
        HeaderMatcher(name.lower(), string_matcher(m))
        for name, m in (match.headers or {}).items()
        if name not in _PSEUDO_HEADER_KEYS
    ) + tuple(
        HeaderMatcher(name.lower(), string_matcher(m), invert=True)
        for name, m in (match.without_headers or {}).items()
    )
    return RouteMatch(
        path=_path_matcher(match, gateway_semantics),
        method=string_matcher(match.method) if match.method else None,
        scheme=string_matcher(match.scheme) if match.scheme else None,
        authority=string_matcher(match.authority) if match.authority else None,
        headers=headers,
        query_params=tuple(
            QueryMatcher(name, _query_matcher(m)) for name, m in (match.query_params or {}).items()
        ),
        name=match.name or "",
    )


def _query_matcher(match: StringMatch) -> StringMatcher:
    # queryParams {exact: ""} means "present" (istio/api: empty exact matches presence).
    if match.exact == "":
        return StringMatcher("present")
    return string_matcher(match)


def _match_applies(match: HTTPMatchRequest | None, ctx: RouteContext) -> bool:
    if match is None:
        return True
    if match.port is not None and match.port != ctx.listener_port:
        return False
    if match.gateways:
        wanted = {_qualify_gateway(g, ctx.vs_namespace) for g in match.gateways}
        if (ctx.gateway or "mesh") not in wanted:
            return False
    if ctx.waypoint and match.source_labels:
        return False
    if ctx.gateway is None:
        if match.source_labels and not all(
            ctx.proxy_labels.get(k) == v for k, v in match.source_labels.items()
        ):
            return False
        if match.source_namespace and match.source_namespace != ctx.proxy_namespace:
            return False
    return True


def _qualify_gateway(name: str, namespace: str) -> str:
    if name == "mesh" or "/" in name:
        return name
    return f"{namespace}/{name}"


def bound_gateways(gateways: list[str] | None, namespace: str) -> set[str]:
    """A VS's ``gateways`` as ``ns/name`` (``mesh`` when omitted)."""
    return {_qualify_gateway(g, namespace) for g in (gateways or ["mesh"])}


def _mutation(ops: HeaderOperations | None) -> HeaderMutation | None:
    if ops is None:
        return None
    return HeaderMutation(
        set=tuple((k.lower(), v) for k, v in (ops.set or {}).items()),
        add=tuple((k.lower(), v) for k, v in (ops.add or {}).items()),
        remove=tuple(h.lower() for h in ops.remove or ()),
    )


def _request_mutation(rules: HeaderRules | None) -> HeaderMutation | None:
    return _mutation(rules.request) if rules else None


def _response_mutation(rules: HeaderRules | None) -> HeaderMutation | None:
    return _mutation(rules.response) if rules else None


def per_million(percentage: Percent | None, legacy_percent: int | None) -> int:
    """Istio's Percent (double 0-100) as Envoy's FractionalPercent per million.

    Truncated, as Go's ``uint32(p.Value * 10000)`` in Istio's
    ``translatePercentToFractionalPercent`` (pilot/pkg/networking/core/route/route.go).
    """
    if percentage is not None:
        return int(percentage.value * 10_000)
    if legacy_percent is not None:
        return legacy_percent * 10_000
    return 0


def _fault(route: HTTPRoute) -> FaultSpec | None:
    fault = route.fault
    if fault is None:
        return None
    delay, abort = fault.delay, fault.abort
    delay_s = delay.fixed_delay.seconds if delay and delay.fixed_delay else None
    return FaultSpec(
        delay_s=delay_s,
        # An absent percentage means no request is delayed (istio/api: percent defaults to 0).
        delay_per_million=per_million(delay.percentage, delay.percent) if delay and delay_s else 0,
        abort_status=abort.http_status if abort else None,
        abort_grpc_status=abort.grpc_status if abort else None,
        abort_per_million=per_million(abort.percentage, None) if abort else 0,
    )


def retry_spec(
    retries: HTTPRetry | None,
    include_503: bool,
    consistent_hash: bool = False,
    honour_backoff_and_previous_hosts: bool = True,
) -> RetrySpec | None:
    """Istio's retry translation: its default policy, overridden field by field.

    ``consistent_hash``: the route has one destination and it hashes; then Istio leaves out
    the previous_hosts predicate unless retryIgnorePreviousHosts asks for it (retry.go
    ``ConvertPolicy``, route.go ``applyHTTPRouteDestination``, tag 1.28.9). Before 1.26
    ``ConvertPolicy`` read neither ``backoff`` nor ``retryIgnorePreviousHosts`` (retry.go @
    1.25.0): Envoy's 25 ms base interval and the default predicate applied.
    """
    default = istio_default_retry_policy(include_503, consistent_hash=consistent_hash)
    if retries is None:
        return default
    if retries.attempts <= 0:
        return None  # attempts: 0 disables retries
    conditions, codes = default.retry_on, default.retriable_status_codes
    backoff, ignore_previous = retries.backoff, retries.retry_ignore_previous_hosts
    if not honour_backoff_and_previous_hosts:
        backoff, ignore_previous = None, None
    if retries.retry_on:
        conditions, codes = parse_retry_on(retries.retry_on)
    return RetrySpec(
        num_retries=retries.attempts,
        retry_on=conditions,
        retriable_status_codes=codes,
        per_try_timeout_s=retries.per_try_timeout.seconds if retries.per_try_timeout else None,
        backoff_base_s=backoff.seconds if backoff else default.backoff_base_s,
        retry_previous_hosts=(
            default.retry_previous_hosts if ignore_previous is None else ignore_previous
        ),
        host_selection_max_attempts=default.host_selection_max_attempts,
        retry_remote_localities=bool(retries.retry_remote_localities),
    )


def _destination_cluster(dest: Destination, ctx: RouteContext) -> str:
    fqdn = to_fqdn(dest.host, ctx.vs_namespace)
    port = ctx.service_port(fqdn, dest.port.number if dest.port else None, ctx.listener_port)
    return cluster_name(port, dest.subset or "", fqdn)


def _mirrors(route: HTTPRoute, ctx: RouteContext) -> tuple[MirrorSpec, ...]:
    out: list[MirrorSpec] = []
    if route.mirror is not None:
        share = (
            MILLION
            if route.mirror_percentage is None and route.mirror_percent is None
            else per_million(route.mirror_percentage, route.mirror_percent)
        )
        if share > 0:
            out.append(
                MirrorSpec(_destination_cluster(route.mirror, ctx), share, ctx.mirror_shadow_suffix)
            )
    for policy in route.mirrors or ():
        if policy.destination is None:
            continue
        share = MILLION if policy.percentage is None else per_million(policy.percentage, None)
        if share > 0:
            out.append(
                MirrorSpec(
                    _destination_cluster(policy.destination, ctx), share, ctx.mirror_shadow_suffix
                )
            )
    return tuple(out)


def _action(route: HTTPRoute, ctx: RouteContext) -> dict[str, object]:
    if route.redirect is not None:
        r = route.redirect
        return {
            "redirect": Redirect(
                uri=r.uri,
                authority=r.authority,
                port=r.port,
                scheme=r.scheme,
                code=r.redirect_code or 301,
            )
        }
    if route.direct_response is not None:
        body = route.direct_response.body
        return {
            "direct_response": DirectResponse(
                route.direct_response.status, (body.string or "") if body else ""
            )
        }
    destinations = route.route or []
    weighted = [
        WeightedCluster(
            _destination_cluster(d.destination, ctx),
            100 if len(destinations) == 1 else (d.weight or 0),
            _request_mutation(d.headers),
            _response_mutation(d.headers),
        )
        for d in destinations
        if d.destination is not None
    ]
    if len(weighted) > 1:
        weighted = [w for w in weighted if w.weight > 0]  # weight 0 destinations are dropped
    rewrite = None
    if route.rewrite is not None:
        rw = route.rewrite
        regex = rw.uri_regex_rewrite
        rewrite = Rewrite(
            prefix=rw.uri,
            regex=regex.match if regex else None,
            substitution=regex.rewrite if regex else None,
            authority=rw.authority,
        )
    timeout = route.timeout.seconds if route.timeout is not None else None
    return {
        "clusters": tuple(weighted),
        "rewrite": rewrite,
        "timeout_s": timeout or None,  # 0s means disabled
        "retry": retry_spec(
            route.retries,
            ctx.include_503_in_default_retries,
            consistent_hash=len(destinations) == 1
            and destinations[0].destination is not None
            and ctx.consistent_hash(destinations[0].destination),
            honour_backoff_and_previous_hosts=ctx.retry_backoff_and_previous_hosts,
        ),
        "fault": _fault(route),
        "mirrors": _mirrors(route, ctx),
        # Gateway API: an invalid backend answers 500 (route.go, UseGatewaySemantics).
        "cluster_not_found_status": 500 if ctx.gateway_semantics else 503,
    }


def translate_http_routes(routes: list[HTTPRoute], ctx: RouteContext) -> Iterator[Route]:
    """Envoy routes for one VirtualService on one listener, in order."""
    vs_id = f"{ctx.vs_name}.{ctx.vs_namespace}"
    for route in routes:
        if route.delegate is not None:
            continue  # delegation is not supported by the embedded mesh (documented)
        matches: list[HTTPMatchRequest | None] = list(route.match) if route.match else [None]
        applicable = [m for m in matches if _match_applies(m, ctx)]
        if not applicable:
            continue
        action = _action(route, ctx)
        for match in applicable:
            compiled = _route_match(match, ctx.gateway_semantics)
            name = route.name or ""
            if name and compiled.name:
                name = f"{name}.{compiled.name}"
            yield Route(
                name=name or compiled.name,
                match=compiled,
                request_headers=_request_mutation(route.headers),
                response_headers=_response_mutation(route.headers),
                virtual_service=vs_id,
                **action,  # type: ignore[arg-type]
            )


def default_route(fqdn: str, port: int, include_503: bool) -> Route:
    """The route a service gets with no VirtualService: everything to all its endpoints."""
    return Route(
        name="default",
        match=RouteMatch(path=StringMatcher("prefix", "/")),
        clusters=(WeightedCluster(cluster_name(port, "", fqdn), 100),),
        retry=istio_default_retry_policy(include_503),
    )
