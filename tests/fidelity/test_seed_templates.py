"""Every template of the brief, applied to the built-in mesh, does what its YAML says.

The demo service my-service runs stable (2 replicas), canary, v1 and v2 pods; requests
come from the fortio pod's sidecar, so client-side policy (routes, faults, retries,
balancing) is exercised as on a cluster. Shares use 6-sigma binomial bands.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.fidelity.conftest import Bookinfo


def _pods(bookinfo: Bookinfo, n: int, **spec: object) -> Counter[str]:
    result = bookinfo.load("http://my-service:80/", requests=n, **spec)
    return Counter(r["headers"].get("x-chaoskit-pod", str(r["status"])) for r in result["results"])


def _versions(bookinfo: Bookinfo, n: int) -> Counter[str]:
    result = bookinfo.load("http://my-service:80/", requests=n, connections=4)
    return Counter(
        r["headers"].get("x-chaoskit-version", str(r["status"])) for r in result["results"]
    )


def test_template_2_canary_sends_about_ten_percent_to_canary(bookinfo: Bookinfo) -> None:
    """90/10: n=500, p=0.1 → 50 ± 6 sd (40)."""
    bookinfo.apply_file("seed/02-canary.yaml")
    counts = _versions(bookinfo, 500)
    assert set(counts) <= {"stable", "canary"}
    assert 10 <= counts["canary"] <= 90


@pytest.mark.release_sensitive
def test_template_4_retries_503_three_times_with_its_retry_on_list(bookinfo: Bookinfo) -> None:
    """retryOn lists 503 and attempts: 3 → a failing ratings is tried 4 times per call."""
    bookinfo.apply_file("seed/04-retries-timeouts.yaml")
    ratings = bookinfo.pod("app=ratings", "bookinfo")
    bookinfo.set_settings(ratings["metadata"]["name"], {"mode": "unavailable"}, "bookinfo")
    response = bookinfo.http.get(
        f"{bookinfo.info.ingress_http}/api/v1/products/0/ratings", timeout=30
    )
    assert response.status_code == 503
    productpage = bookinfo.pod("app=productpage", "bookinfo")
    stats = bookinfo.stats(productpage)
    cluster = "cluster.outbound|9080||ratings.bookinfo.svc.cluster.local."
    assert stats[cluster + "upstream_rq_total"] == 4
    assert stats[cluster + "upstream_rq_retry"] == 3


@pytest.mark.release_sensitive
def test_template_5_mirrors_v1_traffic_to_v2(bookinfo: Bookinfo) -> None:
    bookinfo.apply_file("seed/05-mirroring.yaml")
    assert _versions(bookinfo, 20) == {"v1": 20}
    v2 = bookinfo.pod("app=my-service,version=v2")
    deadline = time.monotonic() + 5
    while bookinfo.stats(v2).get("cluster.inbound|8080||.upstream_rq_total", 0) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_template_6_fault_percentages(bookinfo: Bookinfo) -> None:
    """10 % delayed 5 s and 5 % aborted with 503, independently, in the caller's sidecar.

    productpage calls ratings only through /api/v1/products/0/ratings; 400 calls: delays
    40 ± 6 sd (36), aborts 20 ± 6 sd (26).
    """
    bookinfo.apply_file("seed/06-fault-injection.yaml")
    productpage = bookinfo.pod("app=productpage", "bookinfo")
    session = bookinfo.http
    import concurrent.futures

    def call(_: int) -> int:
        url = f"{bookinfo.info.ingress_http}/api/v1/products/0/ratings"
        return session.get(url, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        statuses = list(pool.map(call, range(400)))
    stats = bookinfo.stats(productpage)
    delays = stats["http.outbound_0.0.0.0_9080.fault.delays_injected"]
    aborts = stats["http.outbound_0.0.0.0_9080.fault.aborts_injected"]
    assert 4 <= delays <= 76
    assert 0 < aborts <= 46
    assert statuses.count(503) == aborts


def test_templates_8_and_9_round_robin_and_sticky_sessions(bookinfo: Bookinfo) -> None:
    """Istio merges DestinationRules for one host: the base's my-service rule has subsets but
    no traffic policy, so the template's policy applies (the oldest policy wins)."""
    bookinfo.apply_file("seed/08-load-balancing.yaml")
    counts = _pods(bookinfo, 50)
    assert len(counts) == 5
    assert set(counts.values()) == {10}  # round robin over the five pods
    bookinfo.apply_file("seed/09-sticky-sessions.yaml")
    bookinfo.client.delete("DestinationRule", "default", "load-balancing")
    for user in ("u1", "u2", "u3"):
        assert len(_pods(bookinfo, 15, headers={"x-user-id": user})) == 1
