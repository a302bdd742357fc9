"""An example chaoskit experiment on the seed's `my-service` (written by `chaoskit init`).

The embedded mesh runs `my-service` (subsets stable and canary) in namespace `default`,
and an in-mesh client, fortio, that sends the load from inside the mesh.

Source of the canary split: https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/
"""

from __future__ import annotations

import pytest

# The workloads this module needs. On a cluster that lacks them the experiments are skipped
# with that reason (or fail the run under --chaos-require-all).
pytestmark = pytest.mark.chaos(needs=["default/my-service", "fortio"])


def test_canary_gets_ten_percent(chaos, load, resources):
    """A 90/10 canary: 10% of calls reach the canary, within ±4 points."""
    chaos.apply(resources / "seed" / "02-canary.yaml")

    window = load.run("/", service="my-service:80", rate=300.0, duration="4s", label="split")
    # `matches` is an equivalence test: it passes only when the whole confidence interval
    # lies inside 10% ± 4 points.
    window.share(version="canary").matches(0.10, tolerance=0.04)
    window.success_rate().at_least(0.99)
