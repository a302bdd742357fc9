"""Gateway API HTTPRoutes in the embedded mesh, through real sockets.

An HTTPRoute attached to a Service (GAMMA) is turned into the VirtualService istiod derives
from it, and applied by the callers' sidecars, or, in ambient mode, by the service's waypoint.
Line numbers are of istio/istio ``pilot/pkg/config/kube/gateway/conversion.go`` at tag 1.30.3
(``convertHTTPRoute``), unless a test names another file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaoskit.errors import ConfigError
from chaoskit.experiment.backend import LocalBackend
from chaoskit.experiment.chaos import Chaos
from chaoskit.experiment.record import ExperimentRecord
from chaoskit.istio.http_route import GATEWAY_GROUP
from tests.e2e.conftest import MeshHandle
from tests.e2e.test_ambient import (
    WAYPOINT_8000,
    AmbientHandle,
    ambient as ambient,
)
from tests.e2e.test_get import get

CLUSTER = "cluster.outbound|8000||httpbin.default.svc.cluster.local."
BACKEND_CLUSTER = "cluster.outbound|9080||backend.default.svc.cluster.local."


def _route(rule: str, name: str = "httpbin", namespace: str = "default") -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  parentRefs: [{{group: "", kind: Service, name: httpbin, port: 8000}}]
  rules:
  - backendRefs: [{{name: httpbin, port: 8000}}]
{rule}
"""


def _delete_routes(mesh: MeshHandle) -> None:
    for item in mesh.client.list_resources("httproutes", None):
        meta = item["metadata"]
        mesh.client.call(
            "DELETE",
            f"/apis/{GATEWAY_GROUP}/v1/namespaces/{meta['namespace']}/httproutes/{meta['name']}",
        )


@pytest.fixture
def routes(mesh: MeshHandle) -> Iterator[MeshHandle]:
    yield mesh
    _delete_routes(mesh)
    mesh.client.wait_synced(int(mesh.client.proxy_status()["pushedVersion"]))


def test_request_timeout_is_the_route_timeout(routes: MeshHandle) -> None:
    """``timeouts.request`` becomes the route timeout (lines 211-216): a 2 s upstream is cut
    at 200 ms with Envoy's 504 ``upstream request timeout`` and flag UT, and not retried."""
    routes.apply(_route("    timeouts: {request: 200ms}"))
    fortio = routes.pod("app=fortio")
    response = routes.fetch("httpbin:8000/delay/2")
    assert (response.status_code, response.text) == (504, "upstream request timeout")
    assert routes.last_outbound(fortio)["response_flags"] == "UT"
    stats = routes.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_timeout"] == 1
    assert stats.get(CLUSTER + "upstream_rq_retry", 0) == 0


def test_retry_without_attempts_retries_twice_on_listed_codes(routes: MeshHandle) -> None:
    """A ``retry`` with ``codes: [503]`` and no ``attempts``: Istio's default of 2 (line 197),
    with the codes appended to the connection-error conditions (lines 189-192): three tries
    upstream, then the 503 with URX."""
    routes.apply(_route("    retry: {codes: [503]}"))
    fortio = routes.pod("app=fortio")
    assert routes.fetch("httpbin:8000/status/503").status_code == 503
    stats = routes.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_total"] == 3
    assert stats[CLUSTER + "upstream_rq_retry"] == 2
    assert routes.last_outbound(fortio)["response_flags"] == "URX"


def test_retry_without_codes_does_not_retry_a_503(routes: MeshHandle) -> None:
    """Without ``codes`` the retry conditions are connection errors only (line 189): a 503
    answer is final after one try, although ``attempts: 3`` is set."""
    routes.apply(_route("    retry: {attempts: 3}"))
    fortio = routes.pod("app=fortio")
    assert routes.fetch("httpbin:8000/status/503").status_code == 503
    stats = routes.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_total"] == 1
    assert stats.get(CLUSTER + "upstream_rq_retry", 0) == 0


def test_backend_request_is_the_per_try_timeout_when_the_rule_retries(
    routes: MeshHandle,
) -> None:
    """With a ``retry`` stanza, ``timeouts.backendRequest`` is the per-try timeout (lines
    218-224). A timed-out try counts as a reset, which the HTTPRoute's conditions (connection
    errors and codes, no ``5xx``/``reset``) do not retry (envoy ``source/common/router/
    retry_state_impl.cc`` ``wouldRetryFromReset``): one try, cut at 200 ms, 504 UT."""
    routes.apply(
        _route("    timeouts: {request: 5s, backendRequest: 200ms}\n    retry: {codes: [503]}")
    )
    fortio = routes.pod("app=fortio")
    response = routes.fetch("httpbin:8000/delay/2")
    assert response.status_code == 504
    stats = routes.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_per_try_timeout"] == 1
    assert stats[CLUSTER + "upstream_rq_total"] == 1
    assert routes.last_outbound(fortio)["response_flags"] == "UT"


def test_backend_request_without_retry_is_the_route_timeout(routes: MeshHandle) -> None:
    """No ``retry`` stanza: ``backendRequest`` replaces the route timeout (line 225), so it is
    a route timeout (no per-try timeout counted)."""
    routes.apply(_route("    timeouts: {backendRequest: 200ms}"))
    fortio = routes.pod("app=fortio")
    assert routes.fetch("httpbin:8000/delay/2").status_code == 504
    stats = routes.stats(fortio)
    assert stats[CLUSTER + "upstream_rq_timeout"] == 1
    assert stats.get(CLUSTER + "upstream_rq_per_try_timeout", 0) == 0


def test_backend_weights_split_the_traffic(routes: MeshHandle) -> None:
    """backendRefs weights 80/20 (buildHTTPDestination, lines 938-950) over 200 requests: the
    count reaching httpbin is Binomial(200, 0.8), sd 5.7, so 160 ± 34 is 6 sd."""
    routes.apply(
        """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httpbin, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: httpbin, port: 8000}]
  rules:
  - backendRefs:
    - {name: httpbin, port: 8000, weight: 80}
    - {name: backend, port: 9080, weight: 20}
"""
    )
    fortio = routes.pod("app=fortio")
    result = routes.load("http://httpbin:8000/get", requests=200, connections=4)
    assert result["codes"] == {"200": 200}
    stats = routes.stats(fortio)
    to_httpbin = stats.get(CLUSTER + "upstream_rq_total", 0)
    to_backend = stats.get(BACKEND_CLUSTER + "upstream_rq_total", 0)
    assert to_httpbin + to_backend == 200
    assert 160 - 34 <= to_httpbin <= 160 + 34


def test_an_httproute_in_the_callers_namespace_wins_over_an_older_virtual_service(
    routes: MeshHandle,
) -> None:
    """For one host, a proxy selects Gateway API routes of its own namespace before any
    VirtualService (pilot/pkg/model/virtualservice.go ``SelectVirtualServices``, the
    "consumer override"), and the first one for a domain wins (httproute.go dedupeDomains):
    an older VirtualService aborting every request has no effect."""
    routes.apply(
        """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin]
  http:
  - fault: {abort: {httpStatus: 500, percentage: {value: 100}}}
    route: [{destination: {host: httpbin}}]
"""
    )
    assert routes.fetch("httpbin:8000/get").status_code == 500
    routes.apply(_route(""))
    assert routes.fetch("httpbin:8000/get").status_code == 200


def test_a_path_prefix_matches_whole_segments(routes: MeshHandle) -> None:
    """A PathPrefix ``/status`` matches ``/status/418`` but not ``/statusx``: routes with
    Gateway semantics get Envoy's path_separated_prefix (route/route.go, translateRouteMatch);
    the unmatched request gets Envoy's 404 (no route)."""
    routes.apply(
        """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httpbin, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: httpbin, port: 8000}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /status}}]
    backendRefs: [{name: httpbin, port: 8000}]
"""
    )
    assert routes.fetch("httpbin:8000/status/418").status_code == 418
    assert routes.fetch("httpbin:8000/statusx").status_code == 404


@pytest.fixture
def ambient_routes(ambient: AmbientHandle) -> Iterator[AmbientHandle]:
    yield ambient
    _delete_routes(ambient)
    ambient.client.wait_synced(int(ambient.client.proxy_status()["pushedVersion"]))


def test_in_ambient_the_waypoint_applies_the_httproute_timeout(
    ambient_routes: AmbientHandle,
) -> None:
    """In ambient mode the HTTPRoute attached to the Service binds to the service's waypoint
    (listener_waypoint.go getVirtualServiceForWaypoint reads the mesh routes for the host):
    the waypoint answers the 504 after ``timeouts.request``."""
    ambient_routes.apply(_route("    timeouts: {request: 200ms}", namespace="mesh"), "mesh")
    response = ambient_routes.fetch("httpbin:8000/delay/2")
    assert (response.status_code, response.text) == (504, "upstream request timeout")
    records = ambient_routes.admin(ambient_routes.waypoint(), "/chaoskit/access_log").json()
    assert records["records"][-1]["response_flags"] == "UT"
    assert ambient_routes.stats(ambient_routes.waypoint())[WAYPOINT_8000 + "downstream_rq_5xx"] == 1


def test_status_reports_a_missing_backend_and_an_unbound_gateway_parent(routes: MeshHandle) -> None:
    """istiod's route status (conditions.go createRouteStatus): each parent is Accepted with
    ResolvedRefs False ``BackendNotFound`` for a Service that does not exist (the route is
    kept); a Gateway parent, which the embedded mesh does not run, is not Accepted."""
    routes.apply(
        """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httpbin, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: httpbin, port: 8000}, {name: edge}]
  rules:
  - backendRefs: [{name: httpbin, port: 8000}, {name: nowhere, port: 8000}]
"""
    )
    body = routes.client.call(
        "GET", f"/apis/{GATEWAY_GROUP}/v1/namespaces/default/httproutes/httpbin"
    )
    service, gateway = body["status"]["parents"]
    conditions = {c["type"]: c for c in service["conditions"]}
    assert (conditions["Accepted"]["status"], conditions["ResolvedRefs"]["reason"]) == (
        "True",
        "BackendNotFound",
    )
    assert conditions["ResolvedRefs"]["message"] == (
        "backend(nowhere.default.svc.cluster.local) not found"
    )
    accepted = next(c for c in gateway["conditions"] if c["type"] == "Accepted")
    assert (accepted["status"], accepted["reason"]) == ("False", "NoMatchingParent")
    assert service["controllerName"] == "istio.io/gateway-controller"


def test_chaoskit_get_lists_httproutes_with_their_hostnames(routes: MeshHandle) -> None:
    """``chaoskit get httproute`` prints the CRD's printer columns (Hostnames, Age)."""
    routes.apply(_route("").replace("spec:\n", "spec:\n  hostnames: [httpbin.example]\n", 1))
    header, *rows = get(routes, "httproute")
    assert header == ["NAME", "HOSTNAMES", "AGE"]
    assert [row[:2] for row in rows] == [["httpbin", '["httpbin.example"]']]


def test_at_the_waypoint_the_httproutes_rules_come_before_a_virtual_services(
    ambient_routes: AmbientHandle,
) -> None:
    """A waypoint merges every route for the host, those selected first first: the
    HTTPRoute of its own namespace before an older VirtualService (listener_waypoint.go
    buildWaypointInboundHTTPRouteConfig over SelectVirtualServices' order), so the
    HTTPRoute's catch-all rule answers and the VirtualService's abort is never reached."""
    ambient_routes.apply(
        """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: mesh}
spec:
  hosts: [httpbin]
  http:
  - fault: {abort: {httpStatus: 500, percentage: {value: 100}}}
    route: [{destination: {host: httpbin}}]
""",
        "mesh",
    )
    assert ambient_routes.fetch("httpbin:8000/get").status_code == 500
    ambient_routes.apply(_route("", namespace="mesh"), "mesh")
    assert ambient_routes.fetch("httpbin:8000/get").status_code == 200


def test_a_fault_on_a_service_an_httproute_routes_is_refused_with_the_way_out(
    routes: MeshHandle,
) -> None:
    """The local backend lists HTTPRoutes with the Istio objects, and chaos.delay on the
    service one routes is a ConfigError before anything is applied: Gateway API has no fault
    injection, and a VirtualService fault would lose to the HTTPRoute for callers in its
    namespace (SelectVirtualServices), so it says to route with a VirtualService instead."""
    routes.apply(_route(""))
    backend = LocalBackend(routes.info.kubeconfig, routes.info)
    try:
        assert [
            o["metadata"]["name"] for o in backend.list_objects() if o["kind"] == "HTTPRoute"
        ] == ["httpbin"]
        chaos = Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""))
        with pytest.raises(ConfigError) as caught:
            chaos.delay("httpbin", "1s", namespace="default")
        assert "routed by HTTPRoute default/httpbin" in str(caught.value)
        assert "Gateway API has no fault injection" in str(caught.value)
        assert "Route the service with a VirtualService" in str(caught.value)
        assert not [o for o in backend.list_objects() if o["kind"] == "VirtualService"]
    finally:
        backend.close()


def test_a_backend_that_does_not_exist_answers_500(routes: MeshHandle) -> None:
    """Istio keeps the route to a missing backend and sets Envoy's
    cluster_not_found_response_code to 500 on routes from Gateway API (route/route.go
    applyHTTPRouteDestination, UseGatewaySemantics; a VirtualService's answer stays 503 NC)."""
    routes.apply(_route("").replace("backendRefs: [{name: httpbin", "backendRefs: [{name: nowhere"))
    fortio = routes.pod("app=fortio")
    response = routes.fetch("httpbin:8000/get")
    assert response.status_code == 500
    assert routes.last_outbound(fortio)["response_flags"] == "NC"
