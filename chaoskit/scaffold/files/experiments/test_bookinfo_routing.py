"""An example chaoskit experiment on Istio's Bookinfo (written by `chaoskit init`).

Run it with `pytest experiments/`: chaoskit starts its embedded mesh (Bookinfo plus the
seed's demo services) on loopback, applies the Istio YAML, drives load with Locust, and
judges the result. Every run writes an HTML report under reports/.

Source of the routing rule: https://istio.io/latest/docs/tasks/traffic-management/request-routing/
"""

from __future__ import annotations


def test_jason_is_routed_to_reviews_v2(chaos, load, resources):
    """Pages for the logged-in user jason come from reviews v2, everyone else's from v1."""
    # `resources` is the Istio YAML shipped with chaoskit (or your own folder: set
    # chaos_resources in pyproject.toml). Whatever an experiment applies is rolled back.
    chaos.apply(resources / "seed" / "01-basic-routing.yaml")

    # Open-loop load through the ingress gateway: 100 pages/s for 3 s, logged in as jason.
    jason = load.run(login="jason", rate=100.0, duration="3s", label="jason")
    # A statistical check: it PASSes only when the evidence shows at least 97% of answered
    # pages came from v2, FAILs only when it shows fewer, and is INCONCLUSIVE otherwise.
    jason.share(version="v2").at_least(0.97)

    anonymous = load.run(rate=100.0, duration="3s", label="anonymous")
    anonymous.share(version="v1").at_least(0.97)
