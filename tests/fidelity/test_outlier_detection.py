"""Outlier detection on Bookinfo with three ratings replicas, as an experiment would see it.

istio-semantics §2.4: with consecutive5xxErrors 1 the failing replica is ejected at its
first 503, callers then see almost no errors, the host comes back after baseEjectionTime
(rounded up to the next interval tick), and maxEjectionPercent caps ejections.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.experiment.session import derive_spec
from tests.fidelity.conftest import Bookinfo

CLUSTER = "outbound|9080||ratings.bookinfo.svc.cluster.local"


# Not release_sensitive: outlier detection's one emulated release difference (always eject
# one host) ends at 1.19, far outside the matrix, and this module needs a mesh of its own.


@pytest.fixture(scope="module")
def three_ratings(
    tmp_path_factory: pytest.TempPathFactory, istio_release: str
) -> Iterator[Bookinfo]:
    directory = tmp_path_factory.mktemp("three-ratings")
    spec = derive_spec({"bookinfo/ratings-v1": 3}, directory)
    process = MeshProcess.start(directory / "state", spec=spec, seed=5, istio_version=istio_release)
    handle = Bookinfo(process)
    yield handle
    handle.close()
    process.stop()


def _dr(max_ejection_percent: int) -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: ratings, namespace: bookinfo}}
spec:
  host: ratings
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3s
      maxEjectionPercent: {max_ejection_percent}
"""


def _ratings_calls(bookinfo: Bookinfo, n: int) -> list[int]:
    url = f"{bookinfo.info.ingress_http}/api/v1/products/0/ratings"
    return [bookinfo.http.get(url, timeout=30).status_code for _ in range(n)]


def _ejected(bookinfo: Bookinfo) -> set[str]:
    productpage = bookinfo.pod("app=productpage", "bookinfo")
    lines = bookinfo.admin(productpage, "/clusters").text.splitlines()
    return {
        line.split("::")[1]
        for line in lines
        if line.startswith(CLUSTER + "::") and line.endswith("health_flags::/failed_outlier_check")
    }


def test_a_failing_replica_is_ejected_and_returns_after_base_ejection_time(
    three_ratings: Bookinfo,
) -> None:
    bookinfo = three_ratings
    bookinfo.base()
    bookinfo.apply(_dr(100))
    bad = bookinfo.pods("bookinfo", "app=ratings")[0]
    bookinfo.set_settings(bad["metadata"]["name"], {"errorRate": 1.0}, "bookinfo")
    statuses = _ratings_calls(bookinfo, 40)
    assert statuses.count(503) == 1  # ejected at its first 503; nobody else fails
    assert _ejected(bookinfo) == {f"{bad['status']['podIP']}:9080"}
    time.sleep(4.5)  # base 3 s, rounded up to the 1 s interval tick
    assert _ejected(bookinfo) == set()
    statuses = _ratings_calls(bookinfo, 40)
    assert statuses.count(503) == 1  # back, fails once, ejected again (now for 6 s)
    assert _ejected(bookinfo) == {f"{bad['status']['podIP']}:9080"}


def test_max_ejection_percent_caps_ejections(three_ratings: Bookinfo) -> None:
    """34 % of three hosts allows one ejection; the second failing replica keeps failing."""
    bookinfo = three_ratings
    bookinfo.base()
    bookinfo.apply(_dr(34))
    pods = bookinfo.pods("bookinfo", "app=ratings")
    for pod in pods[:2]:
        bookinfo.set_settings(pod["metadata"]["name"], {"errorRate": 1.0}, "bookinfo")
    statuses = _ratings_calls(bookinfo, 60)
    assert len(_ejected(bookinfo)) == 1
    assert statuses.count(503) > 5  # the second bad replica still gets traffic
    productpage = bookinfo.pod("app=productpage", "bookinfo")
    assert (
        bookinfo.stats(productpage)[f"cluster.{CLUSTER}.outlier_detection.ejections_overflow"] >= 1
    )
