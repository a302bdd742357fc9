"""DestinationRule traffic policy → Envoy cluster settings, with Istio's merge rules.

Istio merges per block, not per field: a subset's ``loadBalancer``, ``connectionPool``,
``outlierDetection`` or ``tls`` replaces the whole block above it, and a port's settings
replace the whole policy above them (pilot/pkg/networking/util/util.go). With no
DestinationRule there is no outlier detection, no circuit-breaker limit and the load
balancer is LEAST_REQUEST.
"""

from __future__ import annotations

from dataclasses import dataclass

from chaoskit.istio.destination_rule import (
    ConnectionPoolSettings,
    LoadBalancerSettings,
    OutlierDetection,
    PortTrafficPolicy,
    RetryBudget,
    TrafficPolicy,
)
from chaoskit.mesh.config import (
    UNLIMITED,
    Compat,
    HashPolicy,
    LbKind,
    LbSpec,
    OutlierSpec,
    Thresholds,
)

DEFAULT_CONNECT_TIMEOUT_S = 10.0  # meshConfig.connectTimeout


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    load_balancer: LoadBalancerSettings | None = None
    connection_pool: ConnectionPoolSettings | None = None
    outlier_detection: OutlierDetection | None = None
    # retryBudget merges differently, by release: istio_retry_budget below.


def _port_level(policy: TrafficPolicy, port: int) -> PortTrafficPolicy | None:
    for settings in policy.port_level_settings or ():
        if settings.port is not None and settings.port.number == port:
            return settings
    return None


def _blocks(policy: TrafficPolicy | PortTrafficPolicy) -> EffectivePolicy:
    return EffectivePolicy(
        load_balancer=policy.load_balancer,
        connection_pool=policy.connection_pool,
        outlier_detection=policy.outlier_detection,
    )


def _for_port(policy: TrafficPolicy, port: int) -> tuple[EffectivePolicy, bool]:
    # GetPortLevelTrafficPolicy (pilot/pkg/networking/util/util.go @ 1.30.3): a port's own
    # settings replace the policy wholesale; a block they omit takes its default and is not
    # inherited from the rule's top level.
    port_settings = _port_level(policy, port)
    if port_settings is not None:
        return _blocks(port_settings), True
    return _blocks(policy), False


def effective_policy(
    top: TrafficPolicy | None, subset: TrafficPolicy | None, port: int
) -> EffectivePolicy:
    """Istio's ``MergeSubsetTrafficPolicy`` (pilot/pkg/networking/util/util.go, 1.28.0 to
    1.30.3): each level reduced to its port's settings first; then a subset's block replaces
    the rule's where the subset sets it, and all of them when the subset has settings for the
    port (``mergeTrafficPolicy``'s ``hasPortLevel``)."""
    original = _for_port(top, port)[0] if top is not None else None
    if subset is None:
        return original or EffectivePolicy()
    own, has_port_level = _for_port(subset, port)
    if original is None or has_port_level:
        return own
    return EffectivePolicy(
        load_balancer=own.load_balancer or original.load_balancer,
        connection_pool=own.connection_pool or original.connection_pool,
        outlier_detection=own.outlier_detection or original.outlier_detection,
    )


def _port_or_whole_budget(policy: TrafficPolicy, port: int) -> RetryBudget | None:
    # GetPortLevelTrafficPolicy returns a copy of the matching port-level settings, and a port's
    # settings have no retryBudget (shadowCopyPortTrafficPolicy, pilot/pkg/networking/util/
    # util.go @ 1.30.3): the budget is gone for a port that has port-level settings.
    return None if _port_level(policy, port) is not None else policy.retry_budget


def istio_retry_budget(
    top: TrafficPolicy | None, subset: TrafficPolicy | None, port: int, compat: Compat
) -> RetryBudget | None:
    """The retry budget Istio puts on a cluster: ``MergeSubsetTrafficPolicy`` (pilot/pkg/
    networking/util/util.go). Before the fix in 1.29.2/1.30.0 (istio/istio#59668) the merge of
    a rule's and a subset's policies copied no RetryBudget: neither budget reached the
    subset's cluster. A rule-level policy alone, or a subset's alone, kept its budget."""
    if not compat.retry_budget:
        return None  # applyRetryBudget first appears in 1.27.0
    original = _port_or_whole_budget(top, port) if top is not None else None
    if subset is None:
        return original
    own = _port_or_whole_budget(subset, port)
    if top is None:
        return own
    if not compat.retry_budget_kept_with_subset_policy:
        return None
    return own or original


_SIMPLE: dict[str, LbKind] = {
    "ROUND_ROBIN": "ROUND_ROBIN",
    "LEAST_CONN": "LEAST_REQUEST",  # deprecated alias
    "LEAST_REQUEST": "LEAST_REQUEST",
    "RANDOM": "RANDOM",
    "PASSTHROUGH": "PASSTHROUGH",
    "UNSPECIFIED": "LEAST_REQUEST",
}


def lb_spec(settings: LoadBalancerSettings | None) -> LbSpec:
    if settings is None:
        return LbSpec()
    hashing = settings.consistent_hash
    if hashing is not None:
        cookie = hashing.http_cookie
        policy = HashPolicy(
            header=hashing.http_header_name,
            cookie=cookie.name if cookie else None,
            cookie_path=cookie.path if cookie else None,
            cookie_ttl_s=cookie.ttl.seconds if cookie and cookie.ttl else None,
            source_ip=bool(hashing.use_source_ip),
            query_parameter=hashing.http_query_parameter_name,
        )
        if hashing.maglev is not None:
            return LbSpec(
                kind="MAGLEV",
                hash_policy=policy,
                maglev_table_size=hashing.maglev.table_size or 65537,
            )
        ring = (hashing.ring_hash.minimum_ring_size if hashing.ring_hash else None) or (
            hashing.minimum_ring_size
        )
        return LbSpec(kind="RING_HASH", hash_policy=policy, ring_size=ring or 1024)
    return LbSpec(kind=_SIMPLE.get(settings.simple or "UNSPECIFIED", "LEAST_REQUEST"))


def _limit(value: int | None) -> int:
    # Istio leaves unset (and 0) limits at 2^32-1 rather than Envoy's 1024 defaults.
    return value if value else UNLIMITED


# Istio's applyRetryBudget defaults (pilot/pkg/networking/core/cluster_traffic_policy.go).
RETRY_BUDGET_DEFAULT_PERCENT = 20.0
RETRY_BUDGET_DEFAULT_MIN_CONCURRENCY = 3


def _retry_budget(budget: RetryBudget | None, default_percent: float) -> tuple[float | None, int]:
    """Istio translates trafficPolicy.retryBudget into the cluster's circuit-breaker retry
    budget (``applyRetryBudget``, tag 1.28.9), which replaces max_retries in Envoy. The
    default percent depends on the release (compat.py: 0.2 before the fix).
    Returns (percent, min concurrency); percent None means no budget."""
    if budget is None:
        return None, RETRY_BUDGET_DEFAULT_MIN_CONCURRENCY
    percent = default_percent if budget.percent is None else budget.percent
    return percent, budget.min_retry_concurrency or RETRY_BUDGET_DEFAULT_MIN_CONCURRENCY


def thresholds(
    pool: ConnectionPoolSettings | None,
    retry_budget: RetryBudget | None = None,
    budget_default_percent: float = RETRY_BUDGET_DEFAULT_PERCENT,
    track_remaining: bool = False,
) -> tuple[Thresholds, float]:
    """Circuit-breaker thresholds and the connect timeout. Istio writes the thresholds for
    every cluster, with or without a connectionPool (applyConnectionPool); ``track_remaining``
    is the release's TrackRemaining (compat.py)."""
    percent, floor = _retry_budget(retry_budget, budget_default_percent)
    if pool is None:
        budget_only = Thresholds(
            retry_budget_percent=percent,
            retry_budget_min_concurrency=floor,
            track_remaining=track_remaining,
        )
        return budget_only, DEFAULT_CONNECT_TIMEOUT_S
    tcp, http = pool.tcp, pool.http
    connect_timeout = (
        tcp.connect_timeout.seconds
        if tcp is not None and tcp.connect_timeout is not None
        else DEFAULT_CONNECT_TIMEOUT_S
    )
    return (
        Thresholds(
            max_connections=_limit(tcp.max_connections if tcp else None),
            max_pending_requests=_limit(http.http1_max_pending_requests if http else None),
            max_requests=_limit(http.http2_max_requests if http else None),
            max_retries=_limit(http.max_retries if http else None),
            max_requests_per_connection=(http.max_requests_per_connection or 0) if http else 0,
            # Istio's mesh default is DO_NOT_UPGRADE; UPGRADE gives the cluster HTTP/2 options.
            http2=http is not None and http.h2_upgrade_policy == "UPGRADE",
            retry_budget_percent=percent,
            retry_budget_min_concurrency=floor,
            track_remaining=track_remaining,
        ),
        connect_timeout,
    )


# Envoy's defaults for a threshold Istio leaves unset (cluster/v3/outlier_detection.proto).
ENVOY_DEFAULT_CONSECUTIVE = 5
ENVOY_DEFAULT_ENFORCING_GATEWAY = 0


def _enforcing(threshold: int) -> int:
    # Istio enforces a threshold it sets at 100 %, and a 0 threshold at 0 %.
    return 100 if threshold > 0 else 0


def outlier_spec(od: OutlierDetection | None) -> OutlierSpec | None:
    """Istio's ``applyOutlierDetection`` (pilot/pkg/networking/core/cluster_traffic_policy.go,
    tag 1.28.9, commit 4c6838d7f5b97e2e3bc80c7492e99e6707e61ca4).

    An unset ``consecutiveGatewayErrors`` leaves Envoy's default: threshold 5 with 0 %
    enforcement, so detections are still counted (``ejections_detected_*``) but never
    enforced. ``splitExternalLocalOriginErrors`` and ``consecutiveLocalOriginFailures``
    pass through; without a positive count Envoy's default of 5 (enforced 100 %) applies.
    """
    if od is None:
        return None
    defaults = OutlierSpec()
    consecutive_5xx = od.consecutive_5xx_errors
    gateway = od.consecutive_gateway_errors
    split = bool(od.split_external_local_origin_errors)
    local_origin = od.consecutive_local_origin_failures or 0
    return OutlierSpec(
        consecutive_5xx=defaults.consecutive_5xx if consecutive_5xx is None else consecutive_5xx,
        enforcing_consecutive_5xx=100 if consecutive_5xx is None else _enforcing(consecutive_5xx),
        consecutive_gateway_errors=ENVOY_DEFAULT_CONSECUTIVE if gateway is None else gateway,
        enforcing_consecutive_gateway_failure=(
            ENVOY_DEFAULT_ENFORCING_GATEWAY if gateway is None else _enforcing(gateway)
        ),
        split_external_local_origin_errors=split,
        consecutive_local_origin_failure=(
            local_origin if split and local_origin > 0 else ENVOY_DEFAULT_CONSECUTIVE
        ),
        interval_s=od.interval.seconds if od.interval else defaults.interval_s,
        base_ejection_time_s=(
            od.base_ejection_time.seconds
            if od.base_ejection_time
            else defaults.base_ejection_time_s
        ),
        # 0 means "unset" on the wire, so Envoy's default of 10 % applies.
        max_ejection_percent=od.max_ejection_percent or defaults.max_ejection_percent,
        # Istio maps minHealthPercent to the panic threshold, 0 (no panic) when unset.
        min_health_percent=od.min_health_percent or 0,
    )
