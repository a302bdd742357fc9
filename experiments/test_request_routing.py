"""Seed template 1 (header-based routing) and Istio's request-routing task, with the
traffic a Locust user class describes (experiments/locustfiles/bookinfo.py).

Source: https://istio.io/latest/docs/tasks/traffic-management/request-routing/
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Which reviews version answered shows in productpage's page (its stars): Bookinfo's apps.
pytestmark = pytest.mark.chaos(needs_app=["bookinfo/productpage", "bookinfo/reviews"])
BOOKINFO_USERS = Path(__file__).parent / "locustfiles" / "bookinfo.py"


def test_jason_is_routed_to_v2_and_everyone_else_to_v1(chaos, load, resources):
    """With the seed's routing rule, pages for jason come from reviews v2 (black stars) and
    pages for anonymous readers from reviews v1 (no stars). Bookinfo sets end-user from
    the login session, so jason's class logs in (on_start), as a Locust user does; readers
    and jason share one open-loop window, each arrival's class drawn by weight (1:1), then
    a reader's task by its weights (5:1 the page over the products API): about 360 of
    jason's pages and 300 readers' pages, at least the 300 each that two 3-second windows
    had; with every page from the right version either interval's low end is above 98%."""
    chaos.apply(resources / "seed" / "01-basic-routing.yaml")

    window = load.run(
        locustfile=BOOKINFO_USERS,
        user=["Jason", "Reader"],
        users=8,
        rate=240.0,
        duration="3s",
        label="jason and readers",
    )
    jason = window.only(name="productpage (jason)")
    jason.share(version="v2").at_least(0.97)

    others = window.only(name="productpage")
    others.share(version="v1").at_least(0.97)
