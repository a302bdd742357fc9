"""Seed template 1 (header-based routing) and Istio's request-routing task.

Source: https://istio.io/latest/docs/tasks/traffic-management/request-routing/
"""

from __future__ import annotations

import pytest

# Which reviews version answered shows in productpage's page (its stars): Bookinfo's apps.
pytestmark = pytest.mark.chaos(needs_app=["bookinfo/productpage", "bookinfo/reviews"])


def test_jason_is_routed_to_v2_and_everyone_else_to_v1(chaos, load, resources):
    """With the seed's routing rule, pages for jason come from reviews v2 (black stars) and
    pages for anonymous users from reviews v1 (no stars). Bookinfo sets end-user from the
    login session, so the load logs in."""
    chaos.apply(resources / "seed" / "01-basic-routing.yaml")

    jason = load.run(login="jason", rate=100.0, duration="3s", label="jason")
    jason.share(version="v2").at_least(0.97)

    others = load.run(rate=100.0, duration="3s", label="anonymous")
    others.share(version="v1").at_least(0.97)
