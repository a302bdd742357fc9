"""Route selection as Envoy's HTTP connection manager does it for Istio's generated config.

Virtual host by the request's authority (exact domain, then the longest ``*.suffix``, then
the longest ``prefix.*``, then ``*``), then the first route whose match holds. Istio turns an
HTTPRoute with N match blocks into N Envoy routes in order, so first-match-wins over the
list gives "AND inside a match, OR across matches".
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from urllib.parse import parse_qsl

from chaoskit.mesh.config import (
    HeaderMatcher,
    QueryMatcher,
    Route,
    RouteConfig,
    RouteMatch,
    StringMatcher,
    VirtualHost,
    WeightedCluster,
)
from chaoskit.mesh.http.message import Headers, Request
from chaoskit.regex import full_match


def string_matches(matcher: StringMatcher, value: str | None) -> bool:
    if value is None:
        return False
    kind = matcher.kind
    if kind == "present":
        return True
    if kind == "regex":
        return full_match(matcher.value, value)
    expected = matcher.value
    if matcher.ignore_case:
        value, expected = value.lower(), expected.lower()
    if kind == "exact":
        return value == expected
    return value.startswith(expected)


def header_matches(matcher: HeaderMatcher, headers: Headers) -> bool:
    value = headers.get(matcher.name)
    if not matcher.invert:
        return string_matches(matcher.matcher, value)
    # Istio withoutHeaders: a missing header counts as the empty string for value matches,
    # so "not exact jason" passes when there is no end-user header at all.
    if matcher.matcher.kind == "present":
        return value is None
    return not string_matches(matcher.matcher, "" if value is None else value)


def query_matches(matcher: QueryMatcher, params: dict[str, str]) -> bool:
    return string_matches(matcher.matcher, params.get(matcher.name))


def route_matches(match: RouteMatch, request: Request, scheme: str = "http") -> bool:
    if match.path is not None and not string_matches(match.path, request.path):
        return False
    if match.method is not None and not string_matches(match.method, request.method):
        return False
    if match.scheme is not None and not string_matches(match.scheme, scheme):
        return False
    if match.authority is not None and not string_matches(match.authority, request.authority):
        return False
    if not all(header_matches(h, request.headers) for h in match.headers):
        return False
    if match.query_params:
        params: dict[str, str] = {}
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            params.setdefault(key, value)  # Envoy matches the first occurrence
        if not all(query_matches(q, params) for q in match.query_params):
            return False
    return True


class RouteTable:
    """A compiled RouteConfig: fast domain lookup, then ordered route matching."""

    def __init__(self, config: RouteConfig) -> None:
        self.config = config
        self._exact: dict[str, VirtualHost] = {}
        self._suffix: list[tuple[str, VirtualHost]] = []
        self._prefix: list[tuple[str, VirtualHost]] = []
        self._any: VirtualHost | None = None
        for vhost in config.virtual_hosts:
            for domain in vhost.domains:
                domain = domain.lower()
                if domain == "*":
                    self._any = self._any or vhost
                elif domain.startswith("*"):
                    self._suffix.append((domain[1:], vhost))
                elif domain.endswith("*"):
                    self._prefix.append((domain[:-1], vhost))
                else:
                    self._exact.setdefault(domain, vhost)
        # Envoy prefers the longest wildcard; ties keep configuration order.
        self._suffix.sort(key=lambda item: -len(item[0]))
        self._prefix.sort(key=lambda item: -len(item[0]))

    def updated(self, config: RouteConfig) -> RouteTable:
        """The table for ``config``, patched in place when only some virtual hosts' routes
        changed (a delta push of one VirtualService): O(changed hosts), not a rebuild."""
        old, new = self.config.virtual_hosts, config.virtual_hosts
        if len(old) != len(new):
            return RouteTable(config)
        swaps = {id(a): b for a, b in zip(old, new, strict=True) if a is not b}
        if any(
            a.name != swaps[id(a)].name or a.domains != swaps[id(a)].domains
            for a in old
            if id(a) in swaps
        ):
            return RouteTable(config)
        for a in old:
            b = swaps.get(id(a))
            if b is None:
                continue
            for domain in a.domains:
                if self._exact.get(domain.lower()) is a:
                    self._exact[domain.lower()] = b
        self._suffix = [(d, swaps.get(id(v), v)) for d, v in self._suffix]
        self._prefix = [(d, swaps.get(id(v), v)) for d, v in self._prefix]
        if self._any is not None:
            self._any = swaps.get(id(self._any), self._any)
        self.config = config
        return self

    def virtual_host(self, authority: str) -> VirtualHost | None:
        host = authority.lower()
        for candidate in (host, host.rsplit(":", 1)[0] if ":" in host else None):
            if candidate is None:
                continue
            if candidate in self._exact:
                return self._exact[candidate]
            for suffix, vhost in self._suffix:
                if candidate.endswith(suffix) and len(candidate) > len(suffix):
                    return vhost
            for prefix, vhost in self._prefix:
                if candidate.startswith(prefix) and len(candidate) > len(prefix):
                    return vhost
        return self._any

    def route(self, vhost: VirtualHost, request: Request, scheme: str = "http") -> Route | None:
        for route in vhost.routes:
            if route_matches(route.match, request, scheme):
                return route
        return None


def pick_weighted(clusters: Sequence[WeightedCluster], rng: random.Random) -> WeightedCluster:
    """Envoy's weighted_clusters: a random draw over the total weight, per request."""
    if len(clusters) == 1:
        return clusters[0]
    total = sum(c.weight for c in clusters)
    if total <= 0:
        return clusters[0]
    draw = rng.randrange(total)
    for cluster in clusters:
        if draw < cluster.weight:
            return cluster
        draw -= cluster.weight
    return clusters[-1]
