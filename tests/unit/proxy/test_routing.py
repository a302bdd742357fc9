"""Route selection as Envoy's HCM does it for Istio's generated config."""

from __future__ import annotations

import random

import pytest

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
from chaoskit.mesh.routing import RouteTable, header_matches, pick_weighted, route_matches


def _request(target: str = "/", method: str = "GET", **headers: str) -> Request:
    return Request(method, target, Headers([("host", "reviews:9080"), *headers.items()]))


@pytest.mark.parametrize(
    ("matcher", "path", "expected"),
    [
        (StringMatcher("exact", "/login"), "/login", True),
        (StringMatcher("exact", "/login"), "/login?x=1", True),  # query is not part of the path
        (StringMatcher("exact", "/login"), "/Login", False),
        (StringMatcher("exact", "/login", ignore_case=True), "/LOGIN", True),
        (StringMatcher("prefix", "/api"), "/apix", True),  # plain string prefix on sidecars
        (StringMatcher("regex", "/products/[0-9]+"), "/products/12", True),
        (StringMatcher("regex", "/products/[0-9]+"), "/products/12/x", False),  # full match
    ],
)
def test_uri_matchers(matcher: StringMatcher, path: str, expected: bool) -> None:
    assert route_matches(RouteMatch(path=matcher), _request(path)) is expected


def test_conditions_inside_a_match_are_anded() -> None:
    match = RouteMatch(
        path=StringMatcher("prefix", "/"),
        method=StringMatcher("exact", "POST"),
        headers=(HeaderMatcher("end-user", StringMatcher("exact", "jason")),),
        query_params=(QueryMatcher("debug", StringMatcher("present")),),
    )
    assert route_matches(match, _request("/x?debug=1", "POST", **{"end-user": "jason"}))
    assert not route_matches(match, _request("/x?debug=1", "GET", **{"end-user": "jason"}))
    assert not route_matches(match, _request("/x", "POST", **{"end-user": "jason"}))


def test_without_headers_treats_a_missing_header_as_empty() -> None:
    """istio-semantics §1.3: withoutHeaders {end-user: {exact: jason}} passes without the header."""
    matcher = HeaderMatcher("end-user", StringMatcher("exact", "jason"), invert=True)
    assert header_matches(matcher, Headers())
    assert header_matches(matcher, Headers([("end-user", "alice")]))
    assert not header_matches(matcher, Headers([("end-user", "jason")]))


def _table() -> RouteTable:
    route = Route("r", RouteMatch(path=StringMatcher("prefix", "/")))
    return RouteTable(
        RouteConfig(
            "80",
            (
                VirtualHost("exact", ("api.example.com",), (route,)),
                VirtualHost("suffix", ("*.example.com",), (route,)),
                VirtualHost("longer", ("*.eu.example.com",), (route,)),
                VirtualHost("any", ("*",), (route,)),
            ),
        )
    )


@pytest.mark.parametrize(
    ("authority", "vhost"),
    [
        ("api.example.com", "exact"),
        ("api.example.com:8080", "exact"),
        ("web.example.com", "suffix"),
        ("web.eu.example.com", "longer"),  # the longest wildcard wins
        ("example.com", "any"),  # *.example.com does not match the bare domain
    ],
)
def test_virtual_host_lookup_order(authority: str, vhost: str) -> None:
    found = _table().virtual_host(authority)
    assert found is not None
    assert found.name == vhost


def test_first_matching_route_wins() -> None:
    first = Route("first", RouteMatch(path=StringMatcher("prefix", "/a")))
    second = Route("second", RouteMatch(path=StringMatcher("prefix", "/")))
    vhost = VirtualHost("v", ("reviews",), (first, second))
    table = RouteTable(RouteConfig("9080", (vhost,)))
    chosen = table.route(vhost, _request("/abc"))
    assert chosen is not None
    assert chosen.name == "first"
    other = table.route(vhost, _request("/b"))
    assert other is not None
    assert other.name == "second"


def test_weighted_pick_follows_relative_weights() -> None:
    """Weights are relative (istio-semantics §1.4): 1:3 is 25 %/75 %.

    Seeded; 4,000 draws with p=0.25 have sd 27, so 1,000 ± 160 is a 6-sigma band.
    """
    clusters = (WeightedCluster("a", 1), WeightedCluster("b", 3))
    rng = random.Random(42)
    picks = [pick_weighted(clusters, rng).cluster for _ in range(4000)]
    assert 840 <= picks.count("a") <= 1160
