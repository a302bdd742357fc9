"""Seed templates 8 and 9: round robin across my-service's pods, and consistent-hash
stickiness on the x-user-id header.

Source: https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings
"""

from __future__ import annotations

import pytest

# The seed topology's my-service and an in-mesh client: the embedded mesh and `chaoskit
# cluster up` run both.
pytestmark = pytest.mark.chaos(needs=["default/my-service", "fortio"], needs_app=["fortio"])


def test_round_robin_spreads_calls_evenly(chaos, load, resources):
    """With ROUND_ROBIN, each of my-service's five pods serves a fifth of the calls (±5
    points), even one slowed to 100 ms: round robin takes turns and ignores load, where
    Istio's default (LEAST_REQUEST, power of two choices) would steer most calls away."""
    chaos.apply(resources / "seed" / "08-load-balancing.yaml", namespace="default")
    (slow,) = chaos.replica_latency("my-service", "100ms", namespace="default").pods
    # Every running pod is judged, so one that serves no call FAILs its own share (0% is
    # outside 20% ± 5) instead of dropping out of the loop below.
    pods = sorted(p.name for p in chaos.backend.pods("default", "app=my-service") if p.running)

    window = load.run("/", service="my-service:80", rate=300.0, duration="4s")
    # The fault acted: the slow pod's calls take its 100 ms (a guard, not a check).
    window.only(lambda r: r.pod == slow, f"{window.label} ({slow})").latency(
        0.5
    ).precondition_at_least("100ms", "the slowed pod answers in its 100 ms")
    window.share(where=lambda r: r.pod == slow, subject=f"calls served by {slow} (slow)").matches(
        0.2, tolerance=0.05
    )
    for pod in [p for p in pods if p != slow]:
        window.share(
            where=lambda r, pod=pod: r.pod == pod, subject=f"calls served by {pod}"
        ).matches(0.2, tolerance=0.05)


# fortio's /fortio/fetch/ sends only its own request headers (docs/kind.md).
@pytest.mark.chaos(
    embedded_only=(
        "the hash key x-user-id would not reach my-service: fortio's /fortio/fetch/ (the "
        "in-mesh client on a cluster) does not pass the caller's request headers on"
    )
)
def test_consistent_hash_keeps_each_user_on_one_pod(chaos, load, resources):
    """With consistentHash on x-user-id, every request of a user lands on the same pod."""
    chaos.apply(resources / "seed" / "09-sticky-sessions.yaml", namespace="default")

    window = load.run(
        "/", service="my-service:80", users=8, headers={"x-user-id": "user-{user}"}, duration="4s"
    )
    window.sticky_share().at_least(0.99)
