"""Seed template 3: connection-pool limits and outlier detection on my-service.

Sources: https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/ and
Envoy's outlier detection (consecutive 5xx ejects at once; maxEjectionPercent caps it).
"""

from __future__ import annotations

import pytest

# Workloads of the seed topology: my-service and an in-mesh client.
pytestmark = pytest.mark.chaos(needs=["default/my-service", "fortio"])


@pytest.mark.chaos(
    uncatchable={
        "halve-base-ejection-time": "no ejection ends within the 5 s window, so 15 s and "
        "30 s look the same",
        "raise-max-ejection": "one failing pod of five: 50% and 100% both let it, and only "
        "it, be ejected",
    }
)
def test_failing_replica_is_ejected_and_the_pool_sheds_overload(chaos, load, resources):
    """One of my-service's five pods answers 503 to everything: the caller's sidecar ejects
    it after five in a row (Envoy counts consecutive 5xx as they happen, not per interval),
    so callers see under 2% errors, and none while it is out. Then, with every pod slow,
    callers beyond the pool's 100 connections + 100 pending requests get 503s (the breaker
    trips) instead of piling onto the pods.

    Two looser settings it cannot see (declared below for ``chaoskit mutate``): a
    baseEjectionTime of 15 s instead of 30 s (no ejection ends within the 5 s window), and
    maxEjectionPercent 100 instead of 50 (with one failing pod of five, no more than one is
    ever ejected)."""
    chaos.apply(resources / "seed" / "03-circuit-breaker.yaml", namespace="default")

    chaos.replica_errors("my-service", rate=1.0, namespace="default")
    ejecting = load.run(
        "/",
        service="my-service:80",
        rate=200.0,
        duration="5s",
        label="one pod failing",
        watch_ejections="my-service.default",
        seen_from="app=fortio",
    )
    ejecting.error_rate().at_most(0.02)
    ejecting.ejections.assert_ejected_within(ejecting.start, seconds=2.0)
    ejecting.ejections.assert_at_most_ejected(2)  # maxEjectionPercent 50 of five pods
    ejecting.while_ejected().error_rate().at_most(0.01)

    chaos.heal()
    chaos.apply(resources / "seed" / "03-circuit-breaker.yaml", namespace="default")
    chaos.replica_latency("my-service", "400ms", replicas=5, namespace="default")
    overload = load.run(
        "/", service="my-service:80", users=260, duration="3s", think="100ms", label="overload"
    )
    overload.share(status=503).at_least(0.05)
    load.calls_to(overload, "my-service", namespace="default").assert_breaker_tripped()
