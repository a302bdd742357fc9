"""The generic app's call graph on a running mesh: the shop example's fan-out (frontend calls
cart and catalog in parallel, catalog calls pricing), each call through the caller's sidecar.

A caller's answers reflect its callees': their errors, their slowness past the caller's own
call timeout, and the Istio config between them (the pricing route's timeout and retries).
Requests go straight to the frontend pod's inbound port; settings change per pod through the
Kubernetes API and go back to the spec's when each test ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaoskit.controlplane.launcher import MeshProcess
from tests.e2e.conftest import MeshHandle

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop" / "mesh.yaml"
SETTINGS = "chaoskit.dev/app-settings"


class Shop(MeshHandle):
    def spec_settings(self, pod: dict[str, Any]) -> dict[str, Any]:
        return dict(json.loads(pod["metadata"]["annotations"][SETTINGS]))

    def change(self, selector: str, **settings: Any) -> None:
        """Set ``settings`` over the spec's on every pod ``selector`` picks."""
        for pod in self.pods("shop", selector):
            merged = {**self.spec_settings(pod), **settings}
            self.set_settings(pod["metadata"]["name"], merged, "shop")

    def restore(self) -> None:
        """Delete every pod's settings annotation: the apps go back to the spec's."""
        for pod in self.pods("shop"):
            self.client.patch_pod(
                "shop", pod["metadata"]["name"], {"metadata": {"annotations": {SETTINGS: None}}}
            )

    def page(self, request_id: str = "") -> tuple[int, dict[str, Any]]:
        frontend = self.pod("app=frontend", "shop")
        headers = {"x-request-id": request_id} if request_id else {}
        response = self.http.get(
            f"http://{frontend['status']['podIP']}:8080/", headers=headers, timeout=30
        )
        return response.status_code, response.json()


@pytest.fixture(scope="module")
def _shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    process = MeshProcess.start(tmp_path_factory.mktemp("shop"), spec=SHOP, seed=5)
    handle = Shop(process)
    try:
        yield handle
    finally:
        handle.close()
        process.stop()


@pytest.fixture
def shop(_shop: Shop) -> Iterator[Shop]:
    """The shop without cart's own 0.1% of errors, so every failure is the test's doing."""
    try:
        _shop.change("app=cart", errorCodes={"503": 0.0})
        yield _shop
    finally:
        _shop.restore()


def test_the_page_lists_its_calls_and_the_trace_reaches_the_second_hop(shop: Shop) -> None:
    status, body = shop.page("trace-generic-1")
    assert status == 200
    assert [(c["url"], c["status"]) for c in body["calls"]] == [
        ("http://cart.shop.svc.cluster.local:8080/cart", 200),
        ("http://catalog.shop.svc.cluster.local:8080/products", 200),
    ]
    # catalog forwarded the request id on its own call to pricing (two hops down).
    catalog = shop.pod("app=catalog", "shop")
    record = shop.last_outbound(catalog)
    assert record["authority"] == "pricing:8080"
    assert record["request_id"] == "trace-generic-1"


def test_a_callees_error_share_shows_at_the_caller(shop: Shop) -> None:
    """catalog answers 503 to 30% of calls: frontend answers 502 to about as many pages,
    each naming catalog. ±0.1 is over four standard errors of the share at n=300."""
    shop.change("app=catalog", errorCodes={"503": 0.3})
    statuses = []
    for _ in range(300):
        status, body = shop.page()
        statuses.append(status)
        if status != 200:
            assert body["error"] == (
                "call to http://catalog.shop.svc.cluster.local:8080/products failed: answered 503"
            )
    assert set(statuses) == {200, 502}
    assert statuses.count(502) / len(statuses) == pytest.approx(0.3, abs=0.1)


def test_a_callee_slower_than_the_callers_timeout_is_a_504(shop: Shop) -> None:
    """frontend gives catalog 1.5 s; catalog taking 2 s makes the page a 504 naming it."""
    shop.change("app=catalog", latency="2s")
    status, body = shop.page()
    assert status == 504
    assert body["error"] == (
        "call to http://catalog.shop.svc.cluster.local:8080/products failed: timed out after 1.5s"
    )
    assert body["calls"][0]["status"] == 200  # cart answered


def test_the_route_policy_between_callees_shapes_the_page(shop: Shop) -> None:
    """Both pricing replicas slow: catalog's sidecar tries each for its 150 ms per-try
    timeout and answers 504 itself; catalog passes that on as a 502, and so does frontend."""
    shop.change("app=pricing", latency="2s")
    status, body = shop.page()
    assert status == 502
    assert body["error"] == (
        "call to http://catalog.shop.svc.cluster.local:8080/products failed: answered 502"
    )
    catalog = shop.pod("app=catalog", "shop")
    record = shop.last_outbound(catalog)
    assert record["response_code"] == 504
    assert "UT" in record["response_flags"]
