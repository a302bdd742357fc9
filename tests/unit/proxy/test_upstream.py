"""Host eligibility in a cluster: outlier ejection and Envoy's panic threshold."""

from __future__ import annotations

import random

import pytest

from chaoskit.mesh.config import Cluster, Compat, Endpoint, OutlierSpec
from chaoskit.mesh.stats import StatsStore
from chaoskit.mesh.upstream import ClusterRuntime


class FakeClock:
    def now(self) -> float:
        return 0.0


def _cluster(min_health_percent: int, hosts: int = 2) -> tuple[ClusterRuntime, StatsStore]:
    store = StatsStore()
    config = Cluster(
        name="outbound|9080||ratings.bookinfo.svc.cluster.local",
        service="ratings.bookinfo.svc.cluster.local",
        port=9080,
        endpoints=tuple(Endpoint(f"127.0.0.{i + 1}", 9080, f"ratings-{i}") for i in range(hosts)),
        outlier=OutlierSpec(
            consecutive_5xx=1, max_ejection_percent=100, min_health_percent=min_health_percent
        ),
    )
    return ClusterRuntime(config, store, random.Random(1), Compat(), FakeClock()), store


def _eject(runtime: ClusterRuntime, address: str) -> None:
    assert runtime.outlier is not None
    runtime.outlier.report(address, 503, None)


@pytest.mark.parametrize(
    ("min_health", "ejected", "eligible"),
    [
        (0, 1, ["127.0.0.2:9080"]),  # Istio's default: no panic, only healthy hosts
        (0, 2, []),  # all ejected and no panic: 503 UH
        (50, 1, ["127.0.0.2:9080"]),  # 50 % healthy is not below 50 %: healthy only
        (50, 2, ["127.0.0.1:9080", "127.0.0.2:9080"]),  # below the threshold: panic, all hosts
    ],
)
def test_panic_threshold_is_istios_min_health_percent(
    min_health: int, ejected: int, eligible: list[str]
) -> None:
    """istio-semantics §2.4 (8): minHealthPercent maps to healthy_panic_threshold."""
    runtime, store = _cluster(min_health)
    for i in range(ejected):
        _eject(runtime, f"127.0.0.{i + 1}:9080")
    assert sorted(h.address for h in runtime._eligible()) == eligible
    panicked = store.get(
        "cluster.outbound|9080||ratings.bookinfo.svc.cluster.local.upstream_rq_lb_healthy_panic"
    )
    assert panicked == (1 if min_health and ejected == 2 else 0)


def test_endpoint_updates_keep_the_outlier_state_of_hosts_that_stay() -> None:
    runtime, _ = _cluster(0, hosts=3)
    _eject(runtime, "127.0.0.1:9080")
    smaller = Cluster(
        name=runtime.config.name,
        service=runtime.config.service,
        port=9080,
        endpoints=runtime.config.endpoints[:2],
        outlier=runtime.config.outlier,
    )
    runtime.update_endpoints(smaller)
    assert runtime.outlier is not None
    assert runtime.outlier.is_ejected("127.0.0.1:9080")
    assert sorted(runtime.hosts) == ["127.0.0.1:9080", "127.0.0.2:9080"]
