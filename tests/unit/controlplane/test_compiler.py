"""Istio resources → per-proxy Envoy config, as istiod translates them."""

from __future__ import annotations

import pytest

from chaoskit.controlplane.compat import compat_for
from chaoskit.controlplane.compiler import Compiler
from chaoskit.controlplane.model import MeshState, Ordered, PodView, PortView, ServiceView
from chaoskit.istio.loading import load_text
from chaoskit.mesh.config import MILLION, UNLIMITED, Cluster, Route

PODS = [
    PodView(
        "reviews-v1-a",
        "bookinfo",
        "reviews-v1",
        (("app", "reviews"), ("version", "v1")),
        "127.9.0.1",
    ),
    PodView(
        "reviews-v2-a",
        "bookinfo",
        "reviews-v2",
        (("app", "reviews"), ("version", "v2")),
        "127.9.0.2",
    ),
    PodView(
        "productpage-v1-a",
        "bookinfo",
        "productpage-v1",
        (("app", "productpage"), ("version", "v1")),
        "127.9.0.3",
    ),
    PodView("sleep-a", "default", "sleep", (("app", "sleep"),), "127.9.0.4"),
]
SERVICES = [
    ServiceView("reviews", "bookinfo", (PortView(9080, 9080),), (("app", "reviews"),)),
    ServiceView("productpage", "bookinfo", (PortView(9080, 9080),), (("app", "productpage"),)),
]
REVIEWS = "reviews.bookinfo.svc.cluster.local"


def _state(yaml_text: str = "", istio: str = "1.28") -> MeshState:
    result = load_text(yaml_text, "<test>", default_namespace="bookinfo") if yaml_text else None
    state = MeshState(services=list(SERVICES), pods=list(PODS), compat=compat_for(istio))
    for order, loaded in enumerate(result.resources if result else []):
        item = Ordered(loaded.resource, loaded.namespace, order)
        {
            "VirtualService": state.virtual_services,
            "DestinationRule": state.destination_rules,
            "Gateway": state.gateways,
            "ServiceEntry": state.service_entries,
        }[loaded.kind].append(item)  # type: ignore[attr-defined]
    return state


def _cluster(compiler: Compiler, name: str, proxy: PodView = PODS[2]) -> Cluster:
    return next(c for c in compiler.clusters(proxy) if c.name == name)


def _routes(compiler: Compiler, proxy: PodView = PODS[2], host: str = REVIEWS) -> tuple[Route, ...]:
    listener = next(x for x in compiler.sidecar_listeners(proxy) if x.port == 9080)
    return next(v for v in listener.route_config.virtual_hosts if v.name == f"{host}:9080").routes


DR = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    connectionPool: {tcp: {maxConnections: 10}}
    outlierDetection: {consecutive5xxErrors: 2}
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer: {simple: RANDOM}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      connectionPool: {http: {http1MaxPendingRequests: 1}}
"""

DR_WITHOUT_PORT_LEVEL = DR.replace(
    "    portLevelSettings:\n    - port: {number: 9080}\n      loadBalancer: {simple: RANDOM}\n", ""
)
assert DR_WITHOUT_PORT_LEVEL != DR


def test_no_destination_rule_means_least_request_no_limits_no_outlier_detection() -> None:
    """istio-semantics §2.1: no DR → LEAST_REQUEST, 2^32-1 limits, no outlier detection."""
    cluster = _cluster(Compiler(_state()), f"outbound|9080||{REVIEWS}")
    assert cluster.lb.kind == "LEAST_REQUEST"
    assert cluster.thresholds.max_connections == UNLIMITED
    assert cluster.outlier is None
    assert {e.address for e in cluster.endpoints} == {"127.9.0.1", "127.9.0.2"}


def test_subset_clusters_select_endpoints_by_labels() -> None:
    compiler = Compiler(_state(DR))
    v1 = _cluster(compiler, f"outbound|9080|v1|{REVIEWS}")
    assert [e.address for e in v1.endpoints] == ["127.9.0.1"]
    assert v1.destination_rule == "reviews.bookinfo"


def test_port_level_settings_replace_the_whole_policy_for_their_port() -> None:
    """Port-level settings do not inherit the top level's blocks: defaults apply (istio/istio
    pilot/pkg/networking/util/util.go ``GetPortLevelTrafficPolicy`` @ 1.30.3; istio.io
    DestinationRule reference, ``portLevelSettings``)."""
    compiler = Compiler(_state(DR))
    v1 = _cluster(compiler, f"outbound|9080|v1|{REVIEWS}")
    assert v1.lb.kind == "RANDOM"  # the port's own block
    assert v1.thresholds.max_connections == UNLIMITED  # not the top level's 10
    assert v1.outlier is None  # not the top level's consecutive5xxErrors: 2


def test_a_subsets_blocks_replace_the_rules_blocks_of_the_same_name() -> None:
    """istio-semantics §2.1: blocks replace blocks, unset blocks inherit (``mergeTrafficPolicy``
    in pilot/pkg/networking/util/util.go @ 1.30.3)."""
    compiler = Compiler(_state(DR_WITHOUT_PORT_LEVEL))
    v1 = _cluster(compiler, f"outbound|9080|v1|{REVIEWS}")
    assert v1.lb.kind == "ROUND_ROBIN"
    assert v1.thresholds.max_connections == 10
    assert v1.outlier is not None
    assert v1.outlier.consecutive_5xx == 2
    v2 = _cluster(compiler, f"outbound|9080|v2|{REVIEWS}")
    # The subset's connectionPool replaces the whole block: maxConnections is unset again.
    assert v2.thresholds.max_pending_requests == 1
    assert v2.thresholds.max_connections == UNLIMITED
    assert v2.outlier is not None  # outlierDetection is inherited
    assert v2.lb.kind == "ROUND_ROBIN"


def test_a_subsets_port_level_settings_replace_every_block() -> None:
    """With port-level settings on the subset, ``hasPortLevel`` makes every block the subset's
    port block, set or not (``mergeTrafficPolicy``, pilot/pkg/networking/util/util.go @ 1.30.3)."""
    subset_port_level = DR.replace(
        "      connectionPool: {http: {http1MaxPendingRequests: 1}}",
        "      portLevelSettings:\n      - port: {number: 9080}\n"
        "        connectionPool: {http: {http1MaxPendingRequests: 1}}",
    )
    compiler = Compiler(_state(subset_port_level))
    v2 = _cluster(compiler, f"outbound|9080|v2|{REVIEWS}")
    assert v2.thresholds.max_pending_requests == 1
    assert v2.outlier is None
    assert v2.lb.kind == "LEAST_REQUEST"  # unset: Istio's default, not the rule's RANDOM


def test_outlier_defaults_follow_istio() -> None:
    compiler = Compiler(
        _state(
            DR_WITHOUT_PORT_LEVEL.replace(
                "outlierDetection: {consecutive5xxErrors: 2}", "outlierDetection: {}"
            )
        )
    )
    outlier = _cluster(compiler, f"outbound|9080||{REVIEWS}").outlier
    assert outlier is not None
    assert (outlier.consecutive_5xx, outlier.interval_s, outlier.base_ejection_time_s) == (
        5,
        10.0,
        30.0,
    )
    assert (outlier.max_ejection_percent, outlier.min_health_percent) == (10, 0)


def test_sidecar_domains_include_short_names_only_in_the_proxy_namespace() -> None:
    compiler = Compiler(_state())
    same_ns = next(x for x in compiler.sidecar_listeners(PODS[2]) if x.port == 9080)
    domains = next(
        v for v in same_ns.route_config.virtual_hosts if v.name == f"{REVIEWS}:9080"
    ).domains
    assert "reviews" in domains
    assert "reviews:9080" in domains
    assert REVIEWS in domains
    other_ns = next(x for x in compiler.sidecar_listeners(PODS[3]) if x.port == 9080)
    domains = next(
        v for v in other_ns.route_config.virtual_hosts if v.name == f"{REVIEWS}:9080"
    ).domains
    assert "reviews" not in domains
    assert "reviews.bookinfo" in domains


@pytest.mark.parametrize(("istio", "codes"), [("1.28", ()), ("1.24", ()), ("1.23", (503,))])
def test_default_route_gets_istios_default_retry_policy(istio: str, codes: tuple[int, ...]) -> None:
    """istio-semantics §1.6: 2 retries on connect-failure etc.; 503 only up to 1.23."""
    (route,) = _routes(Compiler(_state(istio=istio)))
    assert route.name == "default"
    assert route.timeout_s is None
    assert route.retry is not None
    assert route.retry.num_retries == 2
    assert "connect-failure" in route.retry.retry_on
    assert route.retry.retriable_status_codes == codes


def test_matches_expand_to_one_route_each_and_actions_translate() -> None:
    compiler = Compiler(
        _state(
            DR
            + """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: canary
    match:
    - {headers: {end-user: {exact: jason}}}
    - {uri: {prefix: /beta}, ignoreUriCase: true}
    fault:
      delay: {fixedDelay: 7s, percentage: {value: 12.5}}
      abort: {httpStatus: 500, percentage: {value: 100}}
    route: [{destination: {host: reviews, subset: v2}}]
  - timeout: 0.5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,503"}
    route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v2}, weight: 10}
    mirror: {host: reviews, subset: v2}
    mirrorPercentage: {value: 25}
"""
        )
    )
    first, second, third = _routes(compiler)
    assert first.match.headers[0].name == "end-user"
    assert second.match.path is not None
    assert second.match.path.ignore_case
    assert first.fault == second.fault
    assert first.fault is not None
    assert (first.fault.delay_s, first.fault.delay_per_million) == (7.0, 125_000)
    assert (first.fault.abort_status, first.fault.abort_per_million) == (500, MILLION)
    assert first.clusters[0].cluster == f"outbound|9080|v2|{REVIEWS}"
    assert first.virtual_service == "reviews.bookinfo"
    assert third.timeout_s == 0.5
    assert third.retry is not None
    assert third.retry.retry_on == ("gateway-error", "retriable-status-codes")
    assert third.retry.retriable_status_codes == (503,)
    assert [c.weight for c in third.clusters] == [90, 10]
    assert third.mirrors[0].per_million == 250_000


def test_source_labels_decide_which_sidecars_get_a_route() -> None:
    compiler = Compiler(
        _state("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {app: productpage}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
""")
    )
    assert len(_routes(compiler, PODS[2])) == 2
    assert len(_routes(compiler, PODS[3])) == 1


def test_a_vs_bound_only_to_a_gateway_leaves_sidecars_on_the_default_route() -> None:
    compiler = Compiler(
        _state("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  gateways: [bookinfo-gateway]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
""")
    )
    (route,) = _routes(compiler)
    assert route.name == "default"


@pytest.mark.parametrize(("istio", "suffix"), [("1.28", False), ("1.27", True)])
def test_mirror_shadow_suffix_follows_the_emulated_version(istio: str, suffix: bool) -> None:
    """istio-semantics §1.8: ``-shadow`` until 1.27, none from 1.28."""
    compiler = Compiler(
        _state(
            """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    mirror: {host: reviews}
""",
            istio=istio,
        )
    )
    (route,) = _routes(compiler)
    assert route.mirrors[0].shadow_host_suffix is suffix
    assert route.mirrors[0].per_million == MILLION  # absent mirrorPercentage → 100 %


def test_compat_flags_by_version() -> None:
    assert compat_for("1.19").always_eject_one_host
    assert not compat_for("1.20").always_eject_one_host
    assert compat_for("1.23").default_retry_on_503
    assert not compat_for("1.24").default_retry_on_503


def test_merged_destination_rules_take_the_oldest_traffic_policy() -> None:
    """pilot/pkg/model/destination_rule.go: subsets merge; the first rule with a policy wins."""
    compiler = Compiler(
        _state("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: b}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  subsets: [{name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: c}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
""")
    )
    assert _cluster(compiler, f"outbound|9080||{REVIEWS}").lb.kind == "ROUND_ROBIN"
    assert _cluster(compiler, f"outbound|9080|v2|{REVIEWS}").lb.kind == "ROUND_ROBIN"
    assert _cluster(compiler, f"outbound|9080|v1|{REVIEWS}").endpoints


def test_header_match_names_are_lower_cased_as_envoy_compares_them() -> None:
    """Istio accepts `End-User`; Envoy matches header names case-insensitively."""
    compiler = Compiler(
        _state("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {End-User: {exact: jason}}, withoutHeaders: {X-Test: {}}}]
    route: [{destination: {host: reviews}}]
""")
    )
    (route,) = _routes(compiler)
    assert [h.name for h in route.match.headers] == ["end-user", "x-test"]
