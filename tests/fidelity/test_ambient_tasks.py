"""Istio's Bookinfo tasks in ambient mode, with a waypoint in namespace bookinfo.

The callers have no sidecar: the delay and the timeout act once, in the waypoint that
serves ratings and reviews (istio/istio ``pilot/pkg/networking/core/listener_waypoint.go``,
tag 1.30.3), and the pages come out as the tasks describe them:
https://istio.io/latest/docs/tasks/traffic-management/fault-injection/ and
https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/ .
"""

from __future__ import annotations

from typing import Any

import pytest

from chaoskit.experiment.session import derive_spec
from chaoskit.mesh.apps.bookinfo import reviews_version_from_page
from tests.fidelity.conftest import Bookinfo
from tests.fidelity.test_istio_tasks import REVIEWS_UNAVAILABLE

TIMEOUTS = "cluster.outbound|9080|v2|reviews.bookinfo.svc.cluster.local.upstream_rq_timeout"


@pytest.fixture(scope="session")
def _ambient_bookinfo(embedded_mesh: Any, tmp_path_factory: pytest.TempPathFactory) -> Bookinfo:
    spec = derive_spec({}, tmp_path_factory.mktemp("ambient-spec"), "ambient")
    handle: Bookinfo = embedded_mesh(Bookinfo, spec=spec, seed=3)
    return handle


@pytest.fixture
def ambient_bookinfo(_ambient_bookinfo: Bookinfo) -> Bookinfo:
    _ambient_bookinfo.base()
    return _ambient_bookinfo


def _waypoint_stats(bookinfo: Bookinfo) -> dict[str, int]:
    return bookinfo.stats(
        bookinfo.pod("gateway.networking.k8s.io/gateway-name=waypoint", "bookinfo")
    )


def test_fault_injection_delay_acts_in_the_waypoint(ambient_bookinfo: Bookinfo) -> None:
    """7 s ratings delay for jason: the page takes ~6 s (productpage's 3 s timeout, 2 tries)
    with the reviews-unavailable text; the waypoint injected the delay, once per try."""
    ambient_bookinfo.apply_file("bookinfo/virtual-service-all-v1.yaml")
    ambient_bookinfo.apply_file("bookinfo/virtual-service-reviews-test-v2.yaml")
    ambient_bookinfo.apply_file("bookinfo/virtual-service-ratings-test-delay.yaml")
    page, seconds = ambient_bookinfo.page(ambient_bookinfo.session("jason"))
    assert REVIEWS_UNAVAILABLE in page
    assert 5.9 <= seconds < 7.0
    page, seconds = ambient_bookinfo.page()
    assert reviews_version_from_page(page) == "v1"
    assert (
        _waypoint_stats(ambient_bookinfo)["http.outbound_0.0.0.0_9080.fault.delays_injected"] == 2
    )


def test_request_timeout_acts_in_the_waypoint(ambient_bookinfo: Bookinfo) -> None:
    """ratings delayed 2 s, reviews → v2 with a 0.5 s timeout: a ~1 s page (productpage
    retries once) with reviews unavailable; both timeouts are the waypoint's."""
    ambient_bookinfo.apply_file("bookinfo/virtual-service-ratings-delay-2s.yaml")
    ambient_bookinfo.apply("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
""")
    page, seconds = ambient_bookinfo.page()
    assert reviews_version_from_page(page) == "v2"
    assert 2.0 <= seconds < 2.8
    ambient_bookinfo.apply_file("bookinfo/virtual-service-reviews-timeout.yaml")
    page, seconds = ambient_bookinfo.page()
    assert REVIEWS_UNAVAILABLE in page
    assert 1.0 <= seconds < 1.6
    assert _waypoint_stats(ambient_bookinfo)[TIMEOUTS] == 2


def test_circuit_breaking_trips_in_the_waypoint(ambient_bookinfo: Bookinfo) -> None:
    """The circuit-breaking task in ambient mode: Istio's waypoint guide lists circuit
    breaking among the features a waypoint adds (istio.io/latest/docs/ambient/usage/
    waypoint/), and the DestinationRule's pool is the waypoint's cluster's, one for every
    caller (``cluster_waypoint.go``, tag 1.30.3). The documented shape holds: fortio -c 3
    overflows more than -c 2, and the overflows are the waypoint's
    ``upstream_rq_pending_overflow`` (the client, an ambient pod, has no proxy)."""
    ambient_bookinfo.apply_file("istio-tasks/httpbin-circuit-breaker.yaml")
    two = ambient_bookinfo.load("http://httpbin:8000/get", connections=2, requests=20)
    three = ambient_bookinfo.load("http://httpbin:8000/get", connections=3, requests=30)
    share2 = two["codes"].get("503", 0) / 20
    share3 = three["codes"].get("503", 0) / 30
    assert set(two["codes"]) <= {"200", "503"}
    assert share3 > 0
    assert share2 < share3
    waypoint = ambient_bookinfo.pod("gateway.networking.k8s.io/gateway-name=waypoint", "default")
    overflow = ambient_bookinfo.stats(waypoint)[
        "cluster.outbound|8000||httpbin.default.svc.cluster.local.upstream_rq_pending_overflow"
    ]
    assert overflow == two["codes"].get("503", 0) + three["codes"].get("503", 0)
