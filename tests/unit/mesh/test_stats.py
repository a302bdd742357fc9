"""The admin's /stats store: Envoy's ``type=`` filter and the session's counter deltas."""

from __future__ import annotations

from chaoskit.experiment.session import INTERESTING_STATS
from chaoskit.mesh.stats import StatsStore


def test_type_selects_counters_or_gauges_as_envoys_admin_does() -> None:
    store = StatsStore()
    store.inc("cluster.x.upstream_rq_retry", 2)
    store.set_gauge("cluster.x.circuit_breakers.default.remaining_cx", 2**32 - 1)
    assert dict(store.items("Counters")) == {"cluster.x.upstream_rq_retry": 2}
    assert dict(store.items("Gauges")) == {
        "cluster.x.circuit_breakers.default.remaining_cx": 2**32 - 1
    }
    assert len(dict(store.items())) == 2
    assert store.render(kind="Counters") == "cluster.x.upstream_rq_retry: 2\n"


def test_interesting_stats_take_fault_counters_not_the_default_circuit_breakers() -> None:
    """'fault.' once matched 'circuit_breakers.default.remaining_cx': a gauge that appears
    at 2^32-1 showed as a change of four billion in the report's counters."""

    def interesting(name: str) -> bool:
        return any(s in name for s in INTERESTING_STATS)

    assert interesting("http.outbound_0.0.0.0_9080.fault.delays_injected")
    assert interesting("http.outbound_0.0.0.0_9080.fault.aborts_injected")
    assert not interesting("cluster.x.circuit_breakers.default.remaining_cx")


def test_declared_counters_exist_at_zero_and_survive_a_reset() -> None:
    """Envoy creates a cluster's counters with the cluster: /stats lists them at 0 before
    any request, and /reset_counters sets them back to 0 rather than removing them."""
    store = StatsStore()
    store.declare(["cluster.x.upstream_rq_timeout", "cluster.x.upstream_rq_total"])
    store.inc("cluster.x.upstream_rq_total", 3)
    assert dict(store.items("Counters")) == {
        "cluster.x.upstream_rq_timeout": 0,
        "cluster.x.upstream_rq_total": 3,
    }
    assert dict(store.items("Gauges")) == {}
    store.reset_counters()
    assert dict(store.items()) == {
        "cluster.x.upstream_rq_timeout": 0,
        "cluster.x.upstream_rq_total": 0,
    }
    assert store.get("cluster.x.upstream_rq_timeout") == 0


def test_stats_the_bootstrap_matcher_rejects_are_absent() -> None:
    """Envoy does not create a stat its stats_matcher rejects: /stats has no such line,
    counted or declared."""
    from chaoskit.mesh.stats_matcher import StatsMatcher

    store = StatsStore()
    store.keep = StatsMatcher({"inclusion_list": {"patterns": [{"prefix": "cluster_manager"}]}})
    store.declare(["cluster.x.upstream_rq_timeout"])
    store.inc("cluster.x.upstream_rq_total")
    store.inc("cluster_manager.cds.update_success")
    assert dict(store.items()) == {"cluster_manager.cds.update_success": 1}
    assert store.get("cluster.x.upstream_rq_total") == 1  # still counted inside the proxy
