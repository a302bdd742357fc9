"""Seed template 3: connection-pool limits and outlier detection on my-service.

Sources: https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/ and
Envoy's outlier detection (consecutive 5xx ejects at once; maxEjectionPercent caps it).
"""

from __future__ import annotations

import pytest

# Workloads of the seed topology: my-service and an in-mesh client.
pytestmark = pytest.mark.chaos(needs=["default/my-service", "fortio"], needs_app=["fortio"])

# Failing pods of five: one more than maxEjectionPercent 50 lets Envoy eject.
FAILING = 3


@pytest.mark.dataplanes("sidecar", "ambient")
@pytest.mark.chaos(
    uncatchable={
        "halve-base-ejection-time": "no ejection ends within the 5 s window, so 15 s and "
        "30 s look the same",
    }
)
def test_failing_replicas_are_ejected_up_to_the_cap_and_the_pool_sheds_overload(
    chaos, load, resources
):
    """Three of my-service's five pods answer 503 to everything: the caller's sidecar ejects
    them after five in a row each (Envoy counts consecutive 5xx as they happen, not per
    interval), but maxEjectionPercent: 50 stops the third: Envoy ejects a host only while
    100 × (ejected + 1) / hosts ≤ 50 (Envoy ≥ 1.28, ``DetectorImpl::ejectHost``,
    source/common/upstream/outlier_detection_impl.cc), so two are out and the third failing
    pod keeps its share of traffic. Exactly two at once is the check: at 100% (or without
    the cap) all three go out and it FAILs. Each ejected pod let about five errors through (its
    consecutive5xxErrors), counted per host in the caller's access log: at ten times the
    threshold it lets fifty and FAILs. Then, with every pod slow, callers beyond the
    pool's 100 connections + 100 pending requests get 503s (the breaker trips) instead of
    piling onto the pods.

    In ambient mode (``chaos_dataplane``) the pool and the detector are the default
    namespace's waypoint's, one per waypoint replica for every caller (istio/istio
    pilot/pkg/networking/core/cluster_waypoint.go, tag 1.30.3): the ejections, the errors
    let through and the shed calls are read there, and the same bounds hold.

    One looser setting it cannot see (declared above for ``chaoskit mutate``): a
    baseEjectionTime of 15 s instead of 30 s, since no ejection ends within the 5 s
    window."""
    chaos.apply(resources / "seed" / "03-circuit-breaker.yaml", namespace="default")

    # Three pods or an error: the fault never acts on fewer than it was asked for.
    chaos.replica_errors("my-service", rate=1.0, replicas=FAILING, namespace="default")
    ejecting = load.run(
        "/",
        service="my-service:80",
        rate=200.0,
        duration="5s",
        label="three pods failing",
        watch_ejections="my-service.default",
        seen_from="app=fortio",
    )
    ejecting.ejections.assert_at_most_ejected(2)  # maxEjectionPercent 50 of five pods
    ejecting.ejections.assert_at_least_ejected(2)  # two went out: the cap was reached
    # From the first call sent (a worker on a busy machine may take a while to start).
    first_call = min(r.sent for r in ejecting.records)
    ejecting.ejections.assert_ejected_within(first_call, seconds=2.0)
    # consecutive5xxErrors: 5 lets about five errors through per pod before it goes out (a
    # few more were in flight); ten times the threshold would let fifty through.
    ejected = {e.host for e in ejecting.ejections.ejections}
    calls = load.calls_to(ejecting, "my-service", namespace="default")
    calls.assert_host_errors_at_most(ejected, 15)

    chaos.heal()
    chaos.apply(resources / "seed" / "03-circuit-breaker.yaml", namespace="default")
    chaos.replica_latency("my-service", "400ms", replicas=5, namespace="default")
    overload = load.run(
        "/", service="my-service:80", users=260, duration="3s", think="100ms", label="overload"
    )
    overload.share(status=503).at_least(0.05)
    load.calls_to(overload, "my-service", namespace="default").assert_breaker_tripped()
