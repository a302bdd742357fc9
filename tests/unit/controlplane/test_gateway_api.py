"""HTTPRoute → the VirtualService istiod derives (istio/istio 1.30.3
``pilot/pkg/config/kube/gateway/conversion.go`` and ``route_collections.go``). Each expected
value is the one the cited Go code produces for the input, worked out from that code."""

from __future__ import annotations

from typing import Any

from chaoskit.controlplane.compiler import Compiler
from chaoskit.controlplane.gateway_api import route_problems, virtual_services
from chaoskit.controlplane.model import MeshState, Ordered, PodView, PortView, ServiceView
from chaoskit.istio.loading import load_text
from chaoskit.istio.resources import GatewayHTTPRoute


def _route(rules: str, parents: str = '[{group: "", kind: Service, name: reviews}]') -> Any:
    text = f"""\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: reviews, namespace: bookinfo}}
spec:
  parentRefs: {parents}
  rules:
{rules}
"""
    result = load_text(text)
    assert not result.problems, [p.describe() for p in result.problems]
    route = result.resources[0].resource
    assert isinstance(route, GatewayHTTPRoute)
    return route


def _http(rules: str, **kwargs: str) -> list[dict[str, Any]]:
    (vs,) = virtual_services(Ordered(_route(rules, **kwargs), "bookinfo", 1))
    assert vs.gateway_api
    assert vs.resource.spec.hosts == ["reviews.bookinfo.svc.cluster.local"]
    return [h.to_yaml_dict() for h in vs.resource.spec.http or ()]


def test_retry_defaults_to_two_attempts_and_connection_errors_only() -> None:
    (http,) = _http("  - backendRefs: [{name: reviews, port: 9080}]\n    retry: {}")
    assert http["retries"] == {
        "attempts": 2,
        "retryOn": "connect-failure,refused-stream,unavailable,cancelled",
    }


def test_retry_codes_are_appended_and_backoff_kept() -> None:
    (http,) = _http(
        "  - backendRefs: [{name: reviews, port: 9080}]\n"
        "    retry: {attempts: 4, codes: [503, 429], backoff: 100ms}"
    )
    assert http["retries"] == {
        "attempts": 4,
        "retryOn": "connect-failure,refused-stream,unavailable,cancelled,503,429",
        "backoff": "100ms",
    }


def test_zero_attempts_clears_retry_on() -> None:
    (http,) = _http("  - backendRefs: [{name: reviews, port: 9080}]\n    retry: {attempts: 0}")
    assert http["retries"] == {"attempts": 0}


def test_backend_request_is_per_try_only_with_a_retry_stanza() -> None:
    with_retry, without = _http(
        "  - backendRefs: [{name: reviews, port: 9080}]\n"
        "    matches: [{path: {value: /a}}]\n"
        "    timeouts: {request: 3s, backendRequest: 1s}\n"
        "    retry: {attempts: 1}\n"
        "  - backendRefs: [{name: reviews, port: 9080}]\n"
        "    matches: [{path: {value: /b}}]\n"
        "    timeouts: {request: 3s, backendRequest: 1s}"
    )
    assert (with_retry["timeout"], with_retry["retries"]["perTryTimeout"]) == ("3s", "1s")
    # Without retries backendRequest overwrites the request timeout (conversion.go 225).
    assert (without["timeout"], "retries" in without) == ("1s", False)


def test_a_zero_request_timeout_sets_none() -> None:
    (http,) = _http("  - backendRefs: [{name: reviews, port: 9080}]\n    timeouts: {request: 0s}")
    assert "timeout" not in http


def test_weights_single_backend_takes_all_zero_weights_dropped() -> None:
    single, split = _http(
        "  - matches: [{path: {value: /one}}]\n"
        "    backendRefs: [{name: reviews, port: 9080, weight: 7}, {name: v2, port: 9080, weight: 0}]\n"
        "  - matches: [{path: {value: /two}}]\n"
        "    backendRefs: [{name: reviews, port: 9080, weight: 3}, {name: v3, port: 9080, weight: 1}]"
    )
    assert single["route"] == [
        {"destination": {"host": "reviews.bookinfo.svc.cluster.local", "port": {"number": 9080}}}
    ]
    assert [(d["destination"]["host"], d["weight"]) for d in split["route"]] == [
        ("reviews.bookinfo.svc.cluster.local", 3),
        ("v3.bookinfo.svc.cluster.local", 1),
    ]


def test_no_backends_is_404_and_all_zero_weights_500() -> None:
    none, zero = _http(
        "  - matches: [{path: {value: /none}}]\n"
        "  - matches: [{path: {value: /zero}}]\n"
        "    backendRefs: [{name: reviews, port: 9080, weight: 0}]"
    )
    assert none["directResponse"] == {"status": 404}
    assert zero["directResponse"] == {"status": 500}


def test_rules_split_per_match_and_sorted_by_gateway_precedence() -> None:
    """sortHTTPRoutes: Exact before PathPrefix before RegularExpression, a longer value first,
    then a method match, then more headers; ties keep their order. Unnamed rules are named
    ``<namespace>.<route>.<rule index>``."""
    http = _http(
        "  - matches: [{path: {value: /}}, {path: {type: RegularExpression, value: /r.*}}]\n"
        "    backendRefs: [{name: reviews, port: 9080}]\n"
        "  - name: exact\n"
        "    matches: [{path: {type: Exact, value: /x}}, {path: {value: /long/prefix}}]\n"
        "    backendRefs: [{name: reviews, port: 9080}]\n"
        "  - matches: [{path: {value: /long/prefix}, method: GET}]\n"
        "    backendRefs: [{name: reviews, port: 9080}]"
    )
    assert [(h["name"], h["match"][0]["uri"]) for h in http] == [
        ("exact", {"exact": "/x"}),
        ("bookinfo.reviews.2", {"prefix": "/long/prefix"}),
        ("exact", {"prefix": "/long/prefix"}),
        ("bookinfo.reviews.0", {"prefix": "/"}),
        ("bookinfo.reviews.0", {"regex": "/r.*"}),
    ]
    assert http[1]["match"][0]["method"] == {"exact": "GET"}


def test_a_parent_port_is_added_to_every_match() -> None:
    (http,) = _http(
        "  - backendRefs: [{name: reviews, port: 9080}]",
        parents='[{group: "", kind: Service, name: reviews, port: 9080}]',
    )
    assert http["match"] == [{"uri": {"prefix": "/"}, "port": 9080}]


def test_a_trailing_slash_of_a_prefix_is_ignored() -> None:
    (http,) = _http(
        "  - matches: [{path: {value: /api/}}]\n    backendRefs: [{name: reviews, port: 9080}]"
    )
    assert http["match"][0]["uri"] == {"prefix": "/api"}


def test_header_filters_become_header_operations() -> None:
    (http,) = _http(
        "  - backendRefs: [{name: reviews, port: 9080}]\n"
        "    filters:\n"
        "    - type: RequestHeaderModifier\n"
        "      requestHeaderModifier:\n"
        "        set: [{name: X-A, value: '1'}, {name: x-a, value: '2'}]\n"
        "        remove: [x-b]"
    )
    # Names lower-cased, the first of equal names wins (headerListToMap).
    assert http["headers"] == {"request": {"set": {"x-a": "1"}, "remove": ["x-b"]}}


def test_an_unsupported_filter_drops_the_whole_route_and_says_why() -> None:
    route = _route(
        "  - backendRefs: [{name: reviews, port: 9080}]\n"
        "    filters: [{type: ExtensionRef, extensionRef: {group: x, kind: y, name: z}}]"
    )
    assert virtual_services(Ordered(route, "bookinfo", 1)) == []
    ((problem),) = route_problems(route)
    assert (problem.condition, problem.reason) == ("ResolvedRefs", "InvalidFilter")
    assert problem.message == "unsupported filter type 'ExtensionRef'"


def test_a_gateway_parent_binds_nothing_in_the_embedded_mesh() -> None:
    route = _route("  - backendRefs: [{name: reviews, port: 9080}]", parents="[{name: my-gateway}]")
    assert virtual_services(Ordered(route, "bookinfo", 1)) == []
    ((problem),) = route_problems(route)
    assert (problem.condition, problem.reason) == ("Accepted", "NoMatchingParent")


# --- which proxies take the derived routes (pilot/pkg/model/virtualservice.go,
# SelectVirtualServices; pilot/pkg/networking/core/route/route.go, tag 1.30.3) ---------------

_SERVICES = [
    ServiceView("reviews", "bookinfo", (PortView(9080, 9080),), (("app", "reviews"),)),
]
_PRODUCTPAGE = PodView(
    "productpage-a", "bookinfo", "productpage", (("app", "productpage"),), "127.9.0.3"
)
_SLEEP = PodView("sleep-a", "default", "sleep", (("app", "sleep"),), "127.9.0.4")
_VS = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-vs, namespace: bookinfo}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http: [{route: [{destination: {host: reviews.bookinfo.svc.cluster.local}}]}]
"""


def _owner(state: MeshState, proxy: PodView) -> str:
    listener = next(x for x in Compiler(state).sidecar_listeners(proxy) if x.port == 9080)
    vhost = next(
        v for v in listener.route_config.virtual_hosts if v.name.startswith("reviews.bookinfo")
    )
    return vhost.routes[0].virtual_service


def _state(route_namespace: str) -> MeshState:
    vs = load_text(_VS).resources[0].resource
    route = _route(
        "  - backendRefs: [{name: reviews, namespace: bookinfo, port: 9080}]",
        parents='[{group: "", kind: Service, name: reviews, namespace: bookinfo}]',
    )
    route = route.model_copy(
        update={"metadata": route.metadata.model_copy(update={"namespace": route_namespace})}
    )
    return MeshState(
        services=list(_SERVICES),
        pods=[_PRODUCTPAGE, _SLEEP],
        virtual_services=[Ordered(vs, "bookinfo", 1)],  # older than the route
        http_routes=[Ordered(route, route_namespace, 2)],
    )


def test_the_callers_own_namespace_route_wins_over_an_older_virtual_service() -> None:
    """A producer route (in the service's namespace): bookinfo's proxies select it before the
    older VirtualService; a proxy in default orders both by age, so the VirtualService wins."""
    state = _state("bookinfo")
    assert _owner(state, _PRODUCTPAGE) == "reviews~0.bookinfo"
    assert _owner(state, _SLEEP) == "reviews-vs.bookinfo"


def test_a_consumer_route_binds_only_its_own_namespaces_callers() -> None:
    """An HTTPRoute in default for reviews.bookinfo: default's proxies take it, bookinfo's
    do not (a Gateway-semantics route binds the service's namespace or the proxy's)."""
    state = _state("default")
    assert _owner(state, _SLEEP) == "reviews~0.default"
    assert _owner(state, _PRODUCTPAGE) == "reviews-vs.bookinfo"
    state.virtual_services.clear()
    assert _owner(state, _PRODUCTPAGE) == ""  # the default route: no route binds it
