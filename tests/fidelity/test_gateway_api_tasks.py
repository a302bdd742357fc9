"""The Gateway API variants of Istio's traffic-management tasks, on Bookinfo with its version
Services (``samples/bookinfo/platform/kube/bookinfo-versions.yaml``: reviews-v1, -v2, -v3),
routed with HTTPRoutes (``samples/bookinfo/gateway-api/``, istio/istio tag 1.30.3).

https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/ and
https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/ (tab "Gateway API").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.istio.http_route import GATEWAY_GROUP
from chaoskit.mesh.apps.bookinfo import reviews_version_from_page
from chaoskit.topology.spec import DEFAULT_SPEC_PATH
from tests.fidelity.conftest import Bookinfo
from tests.fidelity.test_istio_tasks import REVIEWS_UNAVAILABLE, _versions


def _route(backends: str) -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: reviews, namespace: bookinfo}}
spec:
  parentRefs: [{{group: "", kind: Service, name: reviews, port: 9080}}]
  rules:
  - backendRefs: {backends}
"""


def _versions_spec(directory: Path) -> Path:
    """The built-in mesh plus bookinfo-versions.yaml's per-version Services."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_SPEC_PATH.read_text())
    spec = data["spec"]
    spec["resources"] = [str((DEFAULT_SPEC_PATH.parent / r).resolve()) for r in spec["resources"]]
    for app, versions in (("reviews", ("v1", "v2", "v3")), ("ratings", ("v1",))):
        for version in versions:
            spec["services"].append(
                {
                    "name": f"{app}-{version}",
                    "namespace": "bookinfo",
                    "selector": {"app": app, "version": version},
                    "ports": [{"name": "http", "port": 9080}],
                }
            )
    path = directory / "bookinfo-versions.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def _versions_mesh(embedded_mesh: Any, tmp_path_factory: pytest.TempPathFactory) -> Bookinfo:
    spec = _versions_spec(tmp_path_factory.mktemp("gateway-api-spec"))
    handle: Bookinfo = embedded_mesh(Bookinfo, spec=spec, seed=5)
    return handle


@pytest.fixture
def versions(_versions_mesh: Bookinfo) -> Iterator[Bookinfo]:
    _versions_mesh.base()
    yield _versions_mesh
    for item in _versions_mesh.client.list_resources("httproutes", None):
        meta = item["metadata"]
        _versions_mesh.client.call(
            "DELETE",
            f"/apis/{GATEWAY_GROUP}/v1/namespaces/{meta['namespace']}/httproutes/{meta['name']}",
        )


def test_traffic_shifting_50_50_then_all_v3_with_httproutes(versions: Bookinfo) -> None:
    """route-reviews-v1 → no stars; route-reviews-50-v3 → about half red stars;
    route-reviews-v3 → all red. n=200, p=0.5: sd 7.1, 100 ± 43 is 6 sd."""
    versions.apply(_route("[{name: reviews-v1, port: 9080}]"))
    assert _versions(versions, 20) == {"v1": 20}
    versions.apply(
        _route(
            "[{name: reviews-v1, port: 9080, weight: 50}, {name: reviews-v3, port: 9080, weight: 50}]"
        )
    )
    counts = _versions(versions, 200)
    assert set(counts) == {"v1", "v3"}
    assert 57 <= counts["v3"] <= 143
    versions.apply(_route("[{name: reviews-v3, port: 9080}]"))
    assert _versions(versions, 30) == {"v3": 30}


def test_request_timeout_half_a_second_with_an_httproute(versions: Bookinfo) -> None:
    """request-timeouts, Gateway API tab: reviews → reviews-v2 by HTTPRoute; the 2 s ratings
    delay needs a VirtualService ("Gateway API does not support fault injection"), so the
    page takes about 2 s with black stars. Adding ``timeouts: {request: 500ms}`` to the
    HTTPRoute: the page returns in about 1 s (productpage retries once) and reviews are
    unavailable."""
    versions.apply_file("bookinfo/virtual-service-ratings-delay-2s.yaml")
    versions.apply(_route("[{name: reviews-v2, port: 9080}]"))
    page, seconds = versions.page()
    assert reviews_version_from_page(page) == "v2"
    assert 2.0 <= seconds < 2.8
    versions.apply(_route("[{name: reviews-v2, port: 9080}]\n    timeouts: {request: 500ms}"))
    page, seconds = versions.page()
    assert REVIEWS_UNAVAILABLE in page
    assert 1.0 <= seconds < 1.6
    stats = versions.stats(versions.pod("app=productpage", "bookinfo"))
    assert (
        stats["cluster.outbound|9080||reviews-v2.bookinfo.svc.cluster.local.upstream_rq_timeout"]
        == 2
    )
