"""Seed template 2: a 90/10 canary of my-service (stable/canary subsets).

Source: https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/
"""

from __future__ import annotations

import pytest

# Workloads of the embedded mesh's seed topology; elsewhere the experiment is skipped.
pytestmark = pytest.mark.chaos(needs=["default/my-service", "fortio"])


def test_canary_gets_ten_percent_of_traffic(chaos, load, resources):
    """From a client inside the mesh, 10% of calls to my-service reach the canary and 90%
    the stable pods, within ±4 points: the split holds under load."""
    chaos.apply(resources / "seed" / "02-canary.yaml")

    window = load.run("/", service="my-service:80", rate=300.0, duration="4s")
    window.success_rate().at_least(0.99)
    window.share(version="canary").matches(0.10, tolerance=0.04)
