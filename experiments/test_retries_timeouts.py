"""Seed template 4: retries (3 attempts, perTryTimeout 3s, 503 retriable) and a 10 s timeout
on ratings.

Source: https://istio.io/latest/docs/concepts/traffic-management/#retries
"""

from __future__ import annotations

import pytest
import yaml

from chaoskit.durations import parse_seconds

# The in-mesh client that calls services from inside the mesh.
pytestmark = pytest.mark.chaos(needs=["fortio"], needs_app=["fortio"])


def test_retries_hide_a_failing_replica_and_per_try_timeout_bounds_a_hung_one(
    chaos, load, resources
):
    """Calls to ratings from inside the mesh succeed when one of three replicas answers 503
    (503 is in retryOn, so Envoy retries elsewhere), and end within about 3 s when one
    replica hangs: perTryTimeout cuts the wait. (They end as 504s: the template's retryOn
    lacks ``5xx``/``gateway-error``, which Envoy needs to retry a per-try timeout.)"""
    template = resources / "seed" / "04-retries-timeouts.yaml"
    policy = yaml.safe_load(template.read_text())["spec"]["http"][0]["retries"]
    chaos.apply(template)

    chaos.replica_errors("ratings", rate=1.0)
    failing = load.run(
        "/ratings/0",
        service="ratings.bookinfo:9080",
        rate=200.0,
        duration="3s",
        label="one 503 replica",
    )
    failing.success_rate().at_least(0.99)
    calls = load.calls_to(failing, "ratings")  # what the caller's sidecar logged
    calls.assert_retried()

    chaos.heal()
    chaos.apply(template)
    chaos.replica_latency("ratings", "20s")
    hung = load.run(
        "/ratings/0",
        service="ratings.bookinfo:9080",
        rate=40.0,
        duration="5s",
        label="one hung replica",
    )
    hung.share(
        where=lambda r: r.latency_s > 3.5, subject="share of calls slower than 3.5s"
    ).at_most(0.04)
    load.calls_to(hung, "ratings").assert_per_try_timeout(parse_seconds(policy["perTryTimeout"]))
    # Evidence the replica hung: calls that reached it ended at perTryTimeout as 504s
    # (least-request balancing sends it few once its requests pile up).
    hung.share(status=504).at_least(0.02)
