"""Istio's traffic-management tasks on the embedded mesh, with the outcomes Istio documents.

Sources: istio.io/latest/docs/tasks/traffic-management/{request-routing, fault-injection,
traffic-shifting, request-timeouts, circuit-breaking, mirroring}/ and istio-semantics §6.
Shares are checked as binomial counts with 6-sigma bands, so a correct mesh cannot flake
and a wrong split (or none) cannot pass.
"""

from __future__ import annotations

from collections import Counter

import pytest

from chaoskit.mesh.apps.bookinfo import reviews_version_from_page
from tests.fidelity.conftest import Bookinfo

REVIEWS_UNAVAILABLE = "Sorry, product reviews are currently unavailable for this book."
RATINGS_UNAVAILABLE = "Ratings service is currently unavailable"


def _versions(bookinfo: Bookinfo, n: int, user: str | None = None) -> Counter[str | None]:
    session = bookinfo.session(user)
    return Counter(reviews_version_from_page(bookinfo.page(session)[0]) for _ in range(n))


def test_request_routing(bookinfo: Bookinfo) -> None:
    """request-routing task: all-v1 → no stars for everybody; test-v2 → jason sees black stars.

    https://istio.io/latest/docs/tasks/traffic-management/request-routing/
    """
    bookinfo.apply_file("bookinfo/virtual-service-all-v1.yaml")
    assert _versions(bookinfo, 20) == {"v1": 20}
    bookinfo.apply_file("bookinfo/virtual-service-reviews-test-v2.yaml")
    assert _versions(bookinfo, 20, "jason") == {"v2": 20}
    assert _versions(bookinfo, 20) == {"v1": 20}
    assert _versions(bookinfo, 10, "alice") == {"v1": 10}


def test_fault_injection_delay_breaks_the_page_at_about_six_seconds(bookinfo: Bookinfo) -> None:
    """fault-injection task (delay): 7 s ratings delay for jason → a ~6 s page with the
    reviews-unavailable text, because productpage's 3 s timeout and 2 tries beat reviews v2's
    10 s ratings timeout. Others are unaffected.

    https://istio.io/latest/docs/tasks/traffic-management/fault-injection/
    """
    bookinfo.apply_file("bookinfo/virtual-service-all-v1.yaml")
    bookinfo.apply_file("bookinfo/virtual-service-reviews-test-v2.yaml")
    bookinfo.apply_file("bookinfo/virtual-service-ratings-test-delay.yaml")
    page, seconds = bookinfo.page(bookinfo.session("jason"))
    assert REVIEWS_UNAVAILABLE in page
    assert "Book Details" in page  # details still shown
    assert 5.9 <= seconds < 7.0  # 2 tries x 3 s; the 7 s delay never completes
    page, seconds = bookinfo.page()
    assert reviews_version_from_page(page) == "v1"
    assert seconds < 1.0
    # The fault is in reviews-v2's sidecar (the caller of ratings): 2 delays, one per try.
    reviews_v2 = bookinfo.pod("app=reviews,version=v2", "bookinfo")
    assert bookinfo.stats(reviews_v2)["http.outbound_0.0.0.0_9080.fault.delays_injected"] == 2


def test_fault_injection_abort_shows_ratings_unavailable_for_jason_only(bookinfo: Bookinfo) -> None:
    """fault-injection task (abort): HTTP 500 for jason → both reviews show the ratings-
    unavailable text at once; ratings never receives the request; nobody else is affected."""
    bookinfo.apply_file("bookinfo/virtual-service-all-v1.yaml")
    bookinfo.apply_file("bookinfo/virtual-service-reviews-test-v2.yaml")
    bookinfo.apply_file("bookinfo/virtual-service-ratings-test-abort.yaml")
    ratings = bookinfo.pod("app=ratings", "bookinfo")
    before = bookinfo.stats(ratings).get("cluster.inbound|9080||.upstream_rq_total", 0)
    page, seconds = bookinfo.page(bookinfo.session("jason"))
    assert page.count(RATINGS_UNAVAILABLE) == 2
    assert seconds < 1.0
    assert bookinfo.stats(ratings).get("cluster.inbound|9080||.upstream_rq_total", 0) == before
    reviews_v2 = bookinfo.pod("app=reviews,version=v2", "bookinfo")
    record = bookinfo.last_outbound(reviews_v2)
    assert (record["response_code"], record["response_flags"]) == (500, "FI")
    assert reviews_version_from_page(bookinfo.page()[0]) == "v1"


def test_traffic_shifting_50_50_then_all_v3(bookinfo: Bookinfo) -> None:
    """traffic-shifting task: reviews-50-v3 → about half red stars; reviews-v3 → all red.

    n=200, p=0.5: sd 7.1; 100 ± 43 is a 6-sigma band.
    """
    bookinfo.apply_file("bookinfo/virtual-service-all-v1.yaml")
    bookinfo.apply_file("bookinfo/virtual-service-reviews-50-v3.yaml")
    counts = _versions(bookinfo, 200)
    assert set(counts) == {"v1", "v3"}
    assert 57 <= counts["v3"] <= 143
    bookinfo.apply_file("bookinfo/virtual-service-reviews-v3.yaml")
    assert _versions(bookinfo, 30) == {"v3": 30}


def test_traffic_shifting_80_20(bookinfo: Bookinfo) -> None:
    """80/20 split: n=250, p=0.2 → 50 ± 6 sd (38)."""
    bookinfo.apply_file("bookinfo/virtual-service-reviews-80-20.yaml")
    counts = _versions(bookinfo, 250)
    assert set(counts) <= {"v1", "v2"}
    assert 12 <= counts["v2"] <= 88


@pytest.mark.release_sensitive
def test_request_timeout_half_a_second_gives_a_one_second_page(bookinfo: Bookinfo) -> None:
    """request-timeouts task: ratings delayed 2 s; reviews → v2 → page in ~2 s with black
    stars. With a 0.5 s reviews timeout: ~1 s (productpage retries once), reviews unavailable.

    https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/
    """
    bookinfo.apply_file("bookinfo/virtual-service-ratings-delay-2s.yaml")
    bookinfo.apply("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
""")
    page, seconds = bookinfo.page()
    assert reviews_version_from_page(page) == "v2"
    assert 2.0 <= seconds < 2.8
    bookinfo.apply_file("bookinfo/virtual-service-reviews-timeout.yaml")
    page, seconds = bookinfo.page()
    assert REVIEWS_UNAVAILABLE in page
    assert 1.0 <= seconds < 1.6
    productpage = bookinfo.pod("app=productpage", "bookinfo")
    stats = bookinfo.stats(productpage)
    assert (
        stats["cluster.outbound|9080|v2|reviews.bookinfo.svc.cluster.local.upstream_rq_timeout"]
        == 2
    )


@pytest.mark.release_sensitive
def test_mirroring_copies_every_request_to_v2(bookinfo: Bookinfo) -> None:
    """mirroring task: v1 answers; each request also appears in v2's log (no -shadow from 1.28 on)."""
    bookinfo.apply_file("istio-tasks/httpbin-mirror.yaml")
    result = bookinfo.load("http://httpbin:8000/headers", requests=20)
    assert {r["headers"]["x-chaoskit-version"] for r in result["results"]} == {"v1"}
    v2 = bookinfo.pod("app=httpbin,version=v2")
    import time

    deadline = time.monotonic() + 5
    while bookinfo.stats(v2).get("cluster.inbound|8080||.upstream_rq_total", 0) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert bookinfo.stats(v2)["cluster.inbound|8080||.upstream_rq_total"] == 20


@pytest.mark.release_sensitive
def test_circuit_breaking_trips_with_three_connections(bookinfo: Bookinfo) -> None:
    """circuit-breaking task: maxConnections 1, http1MaxPendingRequests 1. fortio -c 2 -n 20
    mostly succeeds (doc: 17/3 and 19/1); -c 3 -n 30 overflows far more (doc: 11/19 and
    19/11). Overflows are UO 503s counted in upstream_rq_pending_overflow.

    The split depends on timing, so the check is the documented shape: -c 3 overflows more
    than -c 2, both overflow sometimes, and the overflow counter equals the 503s.
    """
    bookinfo.apply_file("istio-tasks/httpbin-circuit-breaker.yaml")
    two = bookinfo.load("http://httpbin:8000/get", connections=2, requests=20)
    three = bookinfo.load("http://httpbin:8000/get", connections=3, requests=30)
    share2 = two["codes"].get("503", 0) / 20
    share3 = three["codes"].get("503", 0) / 30
    assert set(two["codes"]) <= {"200", "503"}
    assert share3 > 0
    assert share2 < share3
    overflow = bookinfo.stats(bookinfo.pod("app=fortio"))[
        "cluster.outbound|8000||httpbin.default.svc.cluster.local.upstream_rq_pending_overflow"
    ]
    assert overflow == two["codes"].get("503", 0) + three["codes"].get("503", 0)
