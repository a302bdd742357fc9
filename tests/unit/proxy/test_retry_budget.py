"""Istio's trafficPolicy.retryBudget (1.27 on), as Envoy's retry budget on the cluster.

Istio: ``applyRetryBudget`` (istio/istio pilot/pkg/networking/core/cluster_traffic_policy.go,
tag 1.28.9, commit 4c6838d7f5b97e2e3bc80c7492e99e6707e61ca4): percent defaults to 20, the
minimum retry concurrency to 3. Envoy: ``RetryBudgetImpl::max`` in
source/common/upstream/resource_manager_impl.h: the share of active plus pending
requests, never below the minimum; it replaces max_retries.
"""

from __future__ import annotations

import random

from chaoskit.controlplane.compat import compat_for
from chaoskit.controlplane.policy import effective_policy, istio_retry_budget, thresholds
from chaoskit.istio.destination_rule import TrafficPolicy
from chaoskit.mesh.config import Cluster, Compat, Thresholds
from chaoskit.mesh.releases import DEFAULT_ISTIO
from chaoskit.mesh.stats import StatsStore
from chaoskit.mesh.upstream import ClusterRuntime


def _limits(
    policy: dict[str, object] | None,
    subset: dict[str, object] | None = None,
    istio: str = DEFAULT_ISTIO,
) -> Thresholds:
    top = TrafficPolicy.model_validate(policy) if policy is not None else None
    below = TrafficPolicy.model_validate(subset) if subset is not None else None
    compat = compat_for(istio)
    effective = effective_policy(top, below, 80)
    budget = istio_retry_budget(top, below, 80, compat)
    return thresholds(effective.connection_pool, budget, compat.retry_budget_default_percent)[0]


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


# --- by release (controlplane/compat.py cites each change) -----------------------------------


def test_the_default_percent_was_a_fifth_of_a_percent_until_the_fix() -> None:
    """applyRetryBudget set Percent{Value: 0.2} (cluster_traffic_policy.go @ 1.28.5, 1.29.1);
    20.0 @ 1.28.6, 1.29.2 and 1.30.0."""
    percent = {
        v: _limits({"retryBudget": {}}, istio=v).retry_budget_percent
        for v in ("1.27", "1.28.5", "1.28.6", "1.28", "1.29.1", "1.29.2", "1.30.0")
    }
    assert percent == {
        "1.27": 0.2,
        "1.28.5": 0.2,
        "1.28.6": 20.0,
        "1.28": 20.0,  # a bare minor is its newest patch, 1.28.10
        "1.29.1": 0.2,
        "1.29.2": 20.0,
        "1.30.0": 20.0,
    }


def test_before_the_fix_a_subset_with_its_own_policy_has_no_budget() -> None:
    """util.go's ShallowCopyTrafficPolicy/mergeTrafficPolicy copied no RetryBudget before
    1.29.2 / 1.30.0: the rule's budget and the subset's own were both lost."""
    top = {"retryBudget": {"percent": 50}}
    subset = {"connectionPool": {"http": {"maxRetries": 4}}}
    own = {"retryBudget": {"percent": 10}}
    assert _limits(top, subset, "1.28").retry_budget_percent is None
    assert _limits(top, own, "1.29.1").retry_budget_percent is None
    assert _limits(top, subset, "1.29.2").retry_budget_percent == 50.0
    assert _limits(top, own, "1.30").retry_budget_percent == 10.0
    # Without a rule-level policy, or without a subset policy, nothing was merged or lost.
    assert _limits(None, own, "1.28").retry_budget_percent == 10.0
    assert _limits(top, None, "1.28").retry_budget_percent == 50.0


def test_port_level_settings_carry_no_budget_in_any_release() -> None:
    """GetPortLevelTrafficPolicy returns shadowCopyPortTrafficPolicy, which has no budget."""
    top = {
        "retryBudget": {"percent": 50},
        "portLevelSettings": [{"port": {"number": 80}, "connectionPool": {"tcp": {}}}],
    }
    assert _limits(top, None, "1.30").retry_budget_percent is None
    elsewhere = {**top, "portLevelSettings": [{"port": {"number": 81}, "connectionPool": {}}]}
    assert _limits(elsewhere, None, "1.30").retry_budget_percent == 50.0


def test_before_1_27_there_is_no_retry_budget() -> None:
    assert _limits({"retryBudget": {"percent": 50}}, istio="1.26").retry_budget_percent is None
    assert _limits({"retryBudget": {"percent": 50}}, istio="1.27").retry_budget_percent == 50.0
