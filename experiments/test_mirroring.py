"""Seed template 5: all traffic to my-service v1, mirrored 100% to v2.

Source: https://istio.io/latest/docs/tasks/traffic-management/mirroring/
"""

from __future__ import annotations

import pytest

# The seed topology's my-service and an in-mesh client: the embedded mesh and `chaoskit
# cluster up` run both.
pytestmark = pytest.mark.chaos(needs=["default/my-service", "fortio"], needs_app=["fortio"])


def test_v2_receives_a_copy_of_every_request_and_clients_see_only_v1(chaos, load, resources):
    """Clients get answers from v1 only, while v2 receives a mirrored copy of (nearly) every
    request: mirroring is fire-and-forget, its answers are dropped."""
    chaos.apply(resources / "seed" / "05-mirroring.yaml", namespace="default")

    window = load.run("/", service="my-service:80", rate=100.0, duration="5s")
    window.share(version="v1").at_least(0.99)
    load.received_share(window, "app=my-service,version=v2", namespace="default").at_least(0.95)
