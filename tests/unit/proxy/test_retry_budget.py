"""Istio 1.28's trafficPolicy.retryBudget, as Envoy's retry budget on the cluster.

Istio: ``applyRetryBudget`` (istio/istio pilot/pkg/networking/core/cluster_traffic_policy.go,
tag 1.28.9, commit 4c6838d7f5b97e2e3bc80c7492e99e6707e61ca4): percent defaults to 20, the
minimum retry concurrency to 3. Envoy: ``RetryBudgetImpl::max`` in
source/common/upstream/resource_manager_impl.h: the share of active plus pending
requests, never below the minimum; it replaces max_retries.
"""

from __future__ import annotations

import random

from chaoskit.controlplane.policy import effective_policy, thresholds
from chaoskit.istio.destination_rule import TrafficPolicy
from chaoskit.mesh.config import Cluster, Compat, Thresholds
from chaoskit.mesh.stats import StatsStore
from chaoskit.mesh.upstream import ClusterRuntime


def _limits(policy: dict[str, object], subset: dict[str, object] | None = None) -> Thresholds:
    top = TrafficPolicy.model_validate(policy)
    below = TrafficPolicy.model_validate(subset) if subset is not None else None
    effective = effective_policy(top, below, 80)
    return thresholds(effective.connection_pool, effective.retry_budget)[0]


def test_an_empty_retry_budget_takes_istios_defaults() -> None:
    limits = _limits({"retryBudget": {}})
    assert (limits.retry_budget_percent, limits.retry_budget_min_concurrency) == (20.0, 3)


def test_a_subsets_retry_budget_replaces_the_top_levels() -> None:
    limits = _limits(
        {"retryBudget": {"percent": 50}, "connectionPool": {"http": {"maxRetries": 1}}},
        {"retryBudget": {"percent": 10, "minRetryConcurrency": 1}},
    )
    assert (limits.retry_budget_percent, limits.retry_budget_min_concurrency) == (10.0, 1)
    assert limits.max_retries == 1  # kept, but the budget decides (below)


def _runtime(limits: Thresholds) -> ClusterRuntime:
    config = Cluster("outbound|80||a.default.svc.cluster.local", "a", 80, thresholds=limits)
    return ClusterRuntime(config, StatsStore(), random.Random(1), Compat())


def test_the_budget_replaces_max_retries_and_scales_with_outstanding_requests() -> None:
    runtime = _runtime(
        Thresholds(max_retries=1, retry_budget_percent=20.0, retry_budget_min_concurrency=3)
    )
    assert runtime.max_retries() == 3  # the floor, not max_retries
    runtime.budget.change(requests=20, pending=5)
    assert runtime.max_retries() == 5  # 20 % of 25 outstanding
    assert all(runtime.try_begin_retry() for _ in range(5))
    assert not runtime.try_begin_retry()


def test_without_a_budget_max_retries_is_the_limit() -> None:
    runtime = _runtime(Thresholds(max_retries=1))
    assert runtime.try_begin_retry()
    assert not runtime.try_begin_retry()
