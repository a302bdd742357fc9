"""The classic resilience findings of Istio's Bookinfo tasks, as experiments, in both data
planes: with sidecars, and in ambient mode with a waypoint in bookinfo
(``@pytest.mark.dataplanes``; ``chaos_dataplane`` says which run this is).

In ambient mode the callers have no proxy: the destination's waypoint applies the
VirtualService's faults, retries and timeouts once for every caller, and holds the only
outlier detector, per waypoint replica (istio/istio pilot/pkg/networking/core/
listener_waypoint.go and cluster_waypoint.go, tag 1.30.3). The findings hold there too,
except where a rule is scoped by ``sourceLabels``: the waypoint skips such a match (the
last experiment).

Sources: https://istio.io/latest/docs/tasks/traffic-management/fault-injection/ and
https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/ ; Bookinfo's
hard-coded timeouts (productpage → reviews 3 s with one retry; reviews v2 → ratings 10 s).
"""

from __future__ import annotations

import pytest

REVIEWS_UNAVAILABLE = "Sorry, product reviews are currently unavailable for this book."
RATINGS_UNAVAILABLE = "Ratings service is currently unavailable"
# The page's text and Bookinfo's own timeouts and retries come from its apps, not the mesh.
pytestmark = pytest.mark.chaos(
    needs_app=["bookinfo/productpage", "bookinfo/reviews", "bookinfo/ratings"]
)
BOTH_PLANES = pytest.mark.dataplanes("sidecar", "ambient")


@BOTH_PLANES
def test_ratings_delay_breaks_the_page_for_jason_only(chaos, load, resources, chaos_dataplane):
    """A 7 s ratings delay for jason: productpage gives up on reviews first (3 s, retried
    once), so jason's page loads in about 6 s with "reviews unavailable", while anonymous
    users, scoped out by the header match, are unaffected. In ambient mode the ratings
    waypoint applies the delay: the header match still works there, since reviews forwards
    ``end-user`` (a ``sourceLabels`` scope would not: the last experiment)."""
    bookinfo = resources / "bookinfo"
    chaos.apply(bookinfo / "virtual-service-all-v1.yaml")
    chaos.apply(bookinfo / "virtual-service-reviews-test-v2.yaml")
    chaos.apply(bookinfo / "virtual-service-ratings-test-delay.yaml")

    # What the config in force and Bookinfo's own timeouts predict for jason: about 6 s.
    expected = chaos.predict().bookinfo_page(user="jason")

    # 40 pages. Each waits about 6 s whatever the rate, so they go out over 4 s, not 8.
    jason = load.run(login="jason", rate=10.0, duration="4s", label="jason")
    jason.share(text=REVIEWS_UNAVAILABLE).at_least(0.9)
    jason.latency(0.5).between("5.5s", "7s")
    jason.latency(0.5).between(expected.value - 0.5, expected.value + 0.5, predicted=expected)

    # The same 90 pages; in ambient mode at half the rate, since one waypoint process carries
    # every page's L7 hops where sidecars spread them over each caller's (decisions.md,
    # "Ambient mode": it saturates near 40 pages/s on two busy cores).
    ambient = chaos_dataplane == "ambient"
    others = load.run(
        rate=15.0 if ambient else 30.0, duration="6s" if ambient else "3s", label="anonymous"
    )
    # Text shares are of the pages that answered, so they presume most did (a guard, not a
    # check: a broken header match still gives slow pages that answer).
    others.success_rate().precondition_at_least(0.9, "the share presumes pages that answered")
    others.share(text=REVIEWS_UNAVAILABLE).at_most(0.05)
    others.latency(0.9).at_most("1s")


@BOTH_PLANES
def test_reviews_timeout_bounds_the_page_latency(chaos, load, resources):
    """With ratings delayed 2 s, a 0.5 s timeout on reviews keeps the page under about 1 s
    (productpage retries once) and shows "reviews unavailable" instead of waiting."""
    bookinfo = resources / "bookinfo"
    chaos.apply(bookinfo / "virtual-service-ratings-delay-2s.yaml")
    chaos.apply(bookinfo / "virtual-service-reviews-timeout.yaml")

    expected = chaos.predict().bookinfo_page()  # 2 tries × 0.5 s: about 1 s

    window = load.run(rate=10.0, duration="5s")
    window.latency(0.9).at_most("1.5s")
    window.share(text=REVIEWS_UNAVAILABLE).at_least(0.9)
    window.latency(0.5).between(expected.value - 0.2, expected.value + 0.3, predicted=expected)


@BOTH_PLANES
def test_retries_hide_a_flaky_ratings_replica(chaos, load, resources):
    """One of three ratings replicas fails half its requests; retries on 5xx send them to
    another replica, so pages almost never show "ratings unavailable". In ambient mode the
    retries are the ratings waypoint's, made once for every caller, and its access log is
    where they are counted."""
    chaos.apply(resources / "bookinfo" / "virtual-service-reviews-v3.yaml")
    chaos.apply(resources / "protections" / "ratings-retry-5xx.yaml")
    chaos.replica_errors("ratings", rate=0.5)

    window = load.run(rate=150.0, duration="4s")
    # Failed ratings calls still give pages (without ratings); the share is of answered
    # pages, so it presumes most answered (a guard, not a check).
    window.success_rate().precondition_at_least(0.99, "the share presumes pages that answered")
    window.share(text=RATINGS_UNAVAILABLE).at_most(0.01)
    load.calls_to(window, "ratings").assert_retried()  # the replica did fail, retries hid it


@BOTH_PLANES
@pytest.mark.chaos(
    uncatchable={
        "raise-consecutive-5xx": "each ejection cycle costs 1 failed page at "
        "consecutive5xxErrors 1 and 10 at 10: about 2 against 20 of 600 pages in the 6 s "
        "window, and no bound passes the first with a safe margin yet fails the second"
    }
)
def test_outlier_detection_ejects_a_failing_replica_and_traffic_recovers(chaos, load, resources):
    """One of three ratings replicas answers 503 to everything: reviews' sidecar (in ambient
    mode the bookinfo waypoint, one detector for every caller) ejects it at its first error,
    so under 5% of the pages (all of which answer) show "ratings unavailable" (about 2% do);
    it returns after the 3 s baseEjectionTime (rounded up to the 1 s interval tick).

    It cannot tell consecutive5xxErrors 1 from 10 (declared above): 2 against 20 failed
    pages. A bound between them (1.5% of 600) would pass at most 3, one page of margin for
    the unmodified config; a longer window does not help, since Envoy doubles the second
    ejection (baseEjectionTime × times ejected) and the returned-after check would then
    need a second bound. The circuit-breaker experiment catches 5 → 50."""
    chaos.apply(resources / "bookinfo" / "virtual-service-reviews-v3.yaml")
    chaos.apply(resources / "protections" / "ratings-outlier-detection.yaml")
    chaos.replica_errors("ratings", rate=1.0)

    window = load.run(
        rate=100.0,
        duration="6s",
        watch_ejections="ratings",
        seen_from="app=reviews",
        label="one replica failing",
    )
    # A failed ratings call still gives a page (without ratings): the share is of the
    # pages that answered, and presumes they nearly all did (a guard, not a check).
    window.success_rate().precondition_at_least(0.97, "the share presumes pages that answered")
    window.share(text=RATINGS_UNAVAILABLE).at_most(0.05)
    window.ejections.assert_ejected_within(window.start, seconds=2.0)
    window.ejections.assert_returned_after(base_ejection_s=3.0, interval_s=1.0)


# reviews v2 for everyone, and a 2 s ratings delay only for calls from reviews v2's pods.
SOURCE_SCOPED_DELAY = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings-from-reviews-v2, namespace: bookinfo}
spec:
  hosts: [ratings]
  http:
  - name: from-reviews-v2
    match: [{sourceLabels: {app: reviews, version: v2}}]
    fault: {delay: {fixedDelay: 2s, percentage: {value: 100}}}
    route: [{destination: {host: ratings, subset: v1}}]
  - route: [{destination: {host: ratings, subset: v1}}]
"""


@BOTH_PLANES
def test_a_source_scoped_delay_acts_in_sidecars_and_not_at_a_waypoint(chaos, load, chaos_dataplane):
    """A 2 s ratings delay scoped to callers labelled app=reviews, version=v2.

    With sidecars, reviews v2's own sidecar matches its labels and delays every ratings
    call, so nearly every page takes over 2 s (reviews gives ratings 10 s).

    In ambient mode the verdict legitimately differs: the ratings waypoint routes for every
    caller and matches ``sourceLabels`` against its own labels, so the scoped rule never
    matches there (``sourceMatchHTTP``, pilot/pkg/networking/core/route/route.go, tag
    1.30.3; `chaoskit analyze` reports it as IST0167) and pages stay fast: the fault a
    sidecar mesh relies on does nothing once the namespace moves to ambient."""
    chaos.apply(SOURCE_SCOPED_DELAY)
    if chaos_dataplane == "ambient":
        # No proxy carries the delay, on purpose: what is judged is that it does not act.
        window = load.run(rate=10.0, duration="4s", prove=False, label="waypoint")
        window.success_rate().precondition_at_least(0.9, "the pages answered")
        window.latency(0.9).at_most("1s")
    else:
        window = load.run(rate=10.0, duration="5s", label="sidecars")
        window.success_rate().precondition_at_least(0.9, "the pages answered")
        window.share(
            where=lambda r: r.latency_s > 1.8, subject="share of pages slower than 1.8s"
        ).at_least(0.9)
