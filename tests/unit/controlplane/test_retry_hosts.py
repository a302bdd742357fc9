"""Which routes keep Istio's previous_hosts retry predicate, and how many picks a retry gets.

Istio 1.28 (istio/istio tag 1.28.9, commit 4c6838d7f5b97e2e3bc80c7492e99e6707e61ca4):
``pilot/pkg/networking/core/route/route.go`` passes ``consistentHash`` to
``retry.ConvertPolicy`` only for a single-destination route whose destination hashes;
``route/retry/retry.go`` leaves the predicate out then, and an explicit
``retryIgnorePreviousHosts`` overrides either way. Envoy: ``LoadBalancerBase::chooseHost``
picks up to ``hostSelectionRetryCount() + 1`` times (envoyproxy/envoy
source/common/upstream/load_balancer_impl.cc).
"""

from __future__ import annotations

import random

from chaoskit.controlplane.compiler import Compiler
from chaoskit.mesh.attempt import HashContext
from chaoskit.mesh.config import Cluster, Compat, Endpoint, LbSpec
from chaoskit.mesh.http.message import Headers, Request
from chaoskit.mesh.stats import StatsStore
from chaoskit.mesh.upstream import ClusterRuntime, HostState
from tests.unit.controlplane.test_compiler import PODS, REVIEWS, _routes, _state

HASHED_DR = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""


def _vs(route: str, retries: str = "") -> str:
    return f"""
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews}}
spec:
  hosts: [reviews]
  http:
  - route: {route}
{retries}"""


def _previous_hosts(yaml_text: str) -> bool:
    [route] = _routes(Compiler(_state(yaml_text)), PODS[2])
    assert route.retry is not None
    return route.retry.retry_previous_hosts


ONE = "[{destination: {host: reviews, subset: v1}}]"
SPLIT = (
    "[{destination: {host: reviews, subset: v1}, weight: 50},"
    " {destination: {host: reviews, subset: v2}, weight: 50}]"
)


def test_a_single_hashed_destination_drops_the_previous_hosts_predicate() -> None:
    assert not _previous_hosts(HASHED_DR + _vs(ONE))


def test_a_split_over_hashed_destinations_keeps_it() -> None:
    assert _previous_hosts(HASHED_DR + _vs(SPLIT))


def test_retry_ignore_previous_hosts_is_honoured_on_a_hashed_route() -> None:
    retries = "    retries: {attempts: 2, retryIgnorePreviousHosts: true}"
    assert _previous_hosts(HASHED_DR + _vs(ONE, retries))
    off = "    retries: {attempts: 2, retryIgnorePreviousHosts: false}"
    assert not _previous_hosts(HASHED_DR + _vs(SPLIT, off))


def test_a_retry_picks_a_host_host_selection_retry_count_plus_one_times() -> None:
    config = Cluster(
        name=f"outbound|9080||{REVIEWS}",
        service=REVIEWS,
        port=9080,
        endpoints=(Endpoint("127.0.0.1", 9080, "a"), Endpoint("127.0.0.2", 9080, "b")),
        lb=LbSpec(kind="RANDOM"),
    )
    runtime = ClusterRuntime(config, StatsStore(), random.Random(1), Compat())
    picks: list[str] = []
    tried = runtime.hosts["127.0.0.1:9080"]

    def always_the_tried_host(hosts: object) -> HostState:
        picks.append(tried.address)
        return tried

    runtime.balancer._pick = always_the_tried_host  # type: ignore[method-assign]
    request = Request("GET", "/", Headers([("host", "reviews:9080")]))
    chosen = runtime.choose(request, frozenset({tried.address}), HashContext(), 5)
    assert len(picks) == 6
    assert chosen is tried  # every pick rejected: Envoy keeps the last one
