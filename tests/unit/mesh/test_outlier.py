"""Outlier detection and the panic threshold on a fake clock (no sleeping anywhere)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chaoskit.mesh.clock import FakeClock
from chaoskit.mesh.config import OutlierSpec
from chaoskit.mesh.outlier import (
    LocalOrigin,
    OutlierDetector,
    OutlierEvent,
    hosts_for_lb,
)
from chaoskit.mesh.stats import ClusterStats, StatsStore

SPEC = OutlierSpec(
    consecutive_5xx=3, interval_s=10.0, base_ejection_time_s=30.0, max_ejection_percent=100
)


def _detector(
    spec: OutlierSpec = SPEC, hosts: int = 3, *, old_envoy: bool = False
) -> tuple[OutlierDetector, FakeClock]:
    clock = FakeClock()
    detector = OutlierDetector(spec, clock, old_envoy, cluster="c", wall_time=lambda: 0.0)
    for i in range(hosts):
        detector.add_host(f"h{i}")
    return detector, clock


def _fail(detector: OutlierDetector, host: str, times: int, status: int = 503) -> None:
    for _ in range(times):
        detector.report(host, status)


def _run_ticks(detector: OutlierDetector, clock: FakeClock, until: float) -> None:
    """Drive the interval timer the way the proxy does: poll, the detector decides."""
    while clock.now() + 1.0 <= until:
        clock.advance(1.0)
        detector.tick()


# --- consecutive errors ---------------------------------------------------------------------


def test_ejection_is_immediate_at_the_nth_consecutive_5xx() -> None:
    """outlier_detection_impl.cc putHttpResponseCode: detection when ++consecutive_5xx == N.

    Envoy docs (outlier.rst): "the host is ejected immediately" — not at the next interval.
    """
    detector, _ = _detector()
    _fail(detector, "h0", 2)
    assert not detector.is_ejected("h0")
    detector.report("h0", 500)
    assert detector.is_ejected("h0")
    assert detector.ejected_hosts() == ["h0"]
    stats = detector.stats
    assert stats["outlier_detection.ejections_active"] == 1
    assert stats["outlier_detection.ejections_detected_consecutive_5xx"] == 1
    assert stats["outlier_detection.ejections_enforced_consecutive_5xx"] == 1
    assert stats["outlier_detection.ejections_enforced_total"] == 1
    assert stats["outlier_detection.ejections_total"] == 1  # deprecated, still emitted
    assert stats["outlier_detection.ejections_consecutive_5xx"] == 1  # deprecated


def test_a_non_5xx_response_resets_the_counters() -> None:
    """putHttpResponseCode: any non-5xx response zeroes consecutive_5xx and gateway counts."""
    detector, _ = _detector()
    _fail(detector, "h0", 2)
    detector.report("h0", 404)
    _fail(detector, "h0", 2)
    assert not detector.is_ejected("h0")
    detector.report("h0", 503)
    assert detector.is_ejected("h0")


def test_counters_are_per_host() -> None:
    """DetectorHostMonitorImpl keeps one set of counters per host."""
    detector, _ = _detector()
    for _ in range(2):
        detector.report("h0", 503)
        detector.report("h1", 503)
    assert detector.ejected_hosts() == []


def test_consecutive_gateway_errors_count_only_502_503_504() -> None:
    """putHttpResponseCode: a 5xx that is not a gateway error resets the gateway count only."""
    spec = OutlierSpec(consecutive_5xx=0, consecutive_gateway_errors=2, max_ejection_percent=100)
    detector, _ = _detector(spec)
    detector.report("h0", 503)
    detector.report("h0", 500)
    detector.report("h0", 502)
    assert not detector.is_ejected("h0")
    detector.report("h0", 504)
    assert detector.is_ejected("h0")
    assert detector.stats["outlier_detection.ejections_enforced_consecutive_gateway_failure"] == 1
    assert "outlier_detection.ejections_total" not in detector.stats  # only 5xx/SR types


def test_gateway_detection_wins_when_both_thresholds_hit_on_one_response() -> None:
    """The gateway detection is posted first (putHttpResponseCode), so it is the ejection type;
    the 5xx detection then finds the host ejected and is dropped."""
    spec = OutlierSpec(consecutive_5xx=2, consecutive_gateway_errors=2, max_ejection_percent=100)
    detector, _ = _detector(spec)
    _fail(detector, "h0", 2, 503)
    assert detector.events[0].type == "CONSECUTIVE_GATEWAY_FAILURE"
    assert "outlier_detection.ejections_detected_consecutive_5xx" not in detector.stats


def test_istio_unset_gateway_errors_detect_without_enforcing() -> None:
    """Istio leaves consecutive_gateway_failure unset: Envoy detects at 5 but enforces 0 %
    (outlier_detection_impl.h DEFAULT_ENFORCING_CONSECUTIVE_GATEWAY_FAILURE = 0)."""
    spec = OutlierSpec(
        consecutive_5xx=0,
        consecutive_gateway_errors=5,
        enforcing_consecutive_gateway_failure=0,
        max_ejection_percent=100,
    )
    detector, _ = _detector(spec)
    _fail(detector, "h0", 5, 502)
    assert not detector.is_ejected("h0")
    assert detector.stats["outlier_detection.ejections_detected_consecutive_gateway_failure"] == 1
    assert "outlier_detection.ejections_enforced_total" not in detector.stats
    assert [(e.action, e.enforced) for e in detector.events] == [("EJECT", False)]


def test_a_threshold_of_zero_disables_that_detection() -> None:
    """The counter is compared with == after ++, so 0 is never reached (Istio's
    consecutive5xxErrors: 0 also sets enforcing 0)."""
    detector, _ = _detector(OutlierSpec(consecutive_5xx=0, max_ejection_percent=100))
    _fail(detector, "h0", 50)
    assert detector.ejected_hosts() == []


def test_errors_on_an_ejected_host_do_not_count_again() -> None:
    """onConsecutiveErrorWorker returns early for an ejected host; un-ejection resets the
    counters (unejectHost), so it takes N fresh errors to eject again."""
    detector, clock = _detector()
    _fail(detector, "h0", 3)
    _fail(detector, "h0", 10)  # in-flight requests still reporting
    assert detector.stats["outlier_detection.ejections_detected_consecutive_5xx"] == 1
    _run_ticks(detector, clock, 30.0)
    assert not detector.is_ejected("h0")
    _fail(detector, "h0", 2)
    assert not detector.is_ejected("h0")


# --- local-origin errors ------------------------------------------------------------------------


def test_local_origin_failures_map_to_503_and_504_without_split() -> None:
    """resultToHttpCode: connect failure → 503, timeout → 504; both are 5xx and gateway
    errors (router.cc charges resets as LocalOriginConnectFailed)."""
    spec = OutlierSpec(consecutive_5xx=0, consecutive_gateway_errors=3, max_ejection_percent=100)
    detector, _ = _detector(spec)
    detector.report("h0", None, "connect")
    detector.report("h0", None, "timeout")
    detector.report("h0", None, True)
    assert detector.is_ejected("h0")
    detector2, _ = _detector()
    for result in (LocalOrigin.CONNECT_FAILED, LocalOrigin.TIMEOUT, LocalOrigin.CONNECT_FAILED):
        detector2.report_local("h1", result)
    assert detector2.is_ejected("h1")


def test_connect_success_alone_does_not_reset_without_split() -> None:
    """LocalOriginConnectSuccess is not mapped to an HTTP code: the response decides."""
    detector, _ = _detector()
    _fail(detector, "h0", 2)
    detector.report_local("h0", LocalOrigin.CONNECT_SUCCESS)
    detector.report("h0", 503)
    assert detector.is_ejected("h0")


def test_split_mode_counts_local_origin_failures_separately() -> None:
    """putResultWithLocalExternalSplit: connect failures and timeouts feed
    consecutive_local_origin_failure only; an HTTP 5xx does not touch it."""
    spec = OutlierSpec(
        consecutive_5xx=3,
        split_external_local_origin_errors=True,
        consecutive_local_origin_failure=2,
        max_ejection_percent=100,
    )
    detector, _ = _detector(spec)
    detector.report("h0", None, "connect")
    detector.report("h0", 503)  # a response: the connection worked, local counter reset
    detector.report("h0", None, "connect")
    assert not detector.is_ejected("h0")
    detector.report("h0", None, "timeout")
    assert detector.is_ejected("h0")
    assert (
        detector.stats["outlier_detection.ejections_enforced_consecutive_local_origin_failure"] == 1
    )
    # Two 503s and a local failure in between: the 5xx counter was not fed by it.
    detector.report("h1", 503)
    detector.report("h1", None, "connect")
    detector.report("h1", 503)
    assert not detector.is_ejected("h1")


# --- max_ejection_percent ----------------------------------------------------------------------


@pytest.mark.parametrize(("old_envoy", "ejected"), [(False, []), (True, ["h0"])])
def test_default_ten_percent_of_three_hosts(old_envoy: bool, ejected: list[str]) -> None:
    """ejectHost: eject only if 100 × (active + 1) / hosts ≤ max (Envoy PR #27909, 1.28):
    with Istio's default 10 % a 3-host cluster never ejects. Envoy 1.27 (and
    always_eject_one_host since 1.31) let the first host go regardless."""
    detector, _ = _detector(OutlierSpec(consecutive_5xx=1), hosts=3, old_envoy=old_envoy)
    detector.report("h0", 503)
    detector.report("h1", 503)
    assert detector.ejected_hosts() == ejected
    assert detector.stats["outlier_detection.ejections_overflow"] == (2 if not old_envoy else 1)


@pytest.mark.parametrize(("old_envoy", "ejected"), [(False, ["h0"]), (True, ["h0", "h1"])])
def test_fifty_percent_of_three_hosts(old_envoy: bool, ejected: list[str]) -> None:
    """Envoy >= 1.28: (0+1)/3 = 33 % ≤ 50 % ejects, (1+1)/3 = 67 % > 50 % overflows.
    Envoy <= 1.27 (Istio <= 1.19) compared the share before ejecting: 0/3 and 1/3 are both
    < 50 %, so two go (source/common/upstream/outlier_detection_impl.cc before PR #27909)."""
    spec = OutlierSpec(consecutive_5xx=1, max_ejection_percent=50)
    detector, _ = _detector(spec, hosts=3, old_envoy=old_envoy)
    for host in ("h0", "h1", "h2"):
        detector.report(host, 503)
    assert detector.ejected_hosts() == ejected
    assert detector.stats["outlier_detection.ejections_overflow"] == 3 - len(ejected)


def test_ten_percent_of_ten_hosts_ejects_exactly_one() -> None:
    """(0+1)/10 = 10 % ≤ 10 %: one host; the second would make 20 %."""
    detector, _ = _detector(OutlierSpec(consecutive_5xx=1), hosts=10)
    for i in range(3):
        detector.report(f"h{i}", 503)
    assert detector.ejected_hosts() == ["h0"]


def test_overflowed_detection_still_counts_as_detected() -> None:
    """updateDetectedEjectionStats runs before ejectHost's cap check."""
    detector, _ = _detector(OutlierSpec(consecutive_5xx=1), hosts=3)
    detector.report("h0", 503)
    assert detector.stats["outlier_detection.ejections_detected_consecutive_5xx"] == 1
    assert detector.events == []  # no event line for an overflow


# --- un-ejection, multiplier ---------------------------------------------------------------------


def test_unejection_happens_only_on_an_interval_tick() -> None:
    """checkHostForUneject runs only in onIntervalTimer: base 30 s, interval 10 s, ejected at
    t=5 → due at 35 s, back at the t=40 tick (ticks at 10, 20, 30, 40)."""
    detector, clock = _detector()
    clock.advance(5.0)
    _fail(detector, "h0", 3)
    _run_ticks(detector, clock, 39.0)
    assert detector.is_ejected("h0")
    assert detector.next_tick_at == 40.0
    clock.advance(1.0)
    assert detector.tick()
    assert not detector.is_ejected("h0")
    assert detector.stats["outlier_detection.ejections_active"] == 0


def test_tick_is_a_no_op_between_intervals() -> None:
    """armIntervalTimer: one run per interval, however often the driver polls."""
    detector, clock = _detector()
    assert not detector.tick()
    clock.advance(10.0)
    assert detector.tick()
    assert not detector.tick()


def test_repeated_ejections_grow_the_ejection_time() -> None:
    """ejectHost increments ejectTimeBackoff; duration = base × multiplier (30, 60, 90 s)."""
    detector, clock = _detector(OutlierSpec(consecutive_5xx=1, max_ejection_percent=100))
    lengths = []
    for _ in range(3):
        detector.report("h0", 503)
        start = clock.now()
        while detector.is_ejected("h0"):
            clock.advance(10.0)
            detector.tick()
        lengths.append(clock.now() - start)
    # Back-to-back: re-ejected at the tick it came back, so no decay in between.
    assert lengths == [30.0, 60.0, 90.0]
    state = detector.host_state("h0")
    assert state is not None
    assert state.multiplier == 3
    assert state.num_ejections == 3


def test_the_multiplier_decays_one_step_per_healthy_interval() -> None:
    """onIntervalTimer: a host back for ≥ interval loses one step per tick."""
    detector, clock = _detector(OutlierSpec(consecutive_5xx=1, max_ejection_percent=100))
    for _ in range(2):  # multiplier 2
        detector.report("h0", 503)
        while detector.is_ejected("h0"):
            clock.advance(10.0)
            detector.tick()
    state = detector.host_state("h0")
    assert state is not None
    assert state.multiplier == 2
    clock.advance(10.0)
    detector.tick()  # back for one interval
    assert state.multiplier == 1
    clock.advance(10.0)
    detector.tick()
    assert state.multiplier == 0
    detector.report("h0", 503)
    assert detector.ejection_duration_s("h0") == 30.0


def test_the_ejection_time_is_capped_at_max_ejection_time() -> None:
    """max_ejection_time defaults to max(300 s, base); the multiplier still climbs while
    base × m < max + base, so after the cap it takes two decays to go below it."""
    detector, clock = _detector(OutlierSpec(consecutive_5xx=1, max_ejection_percent=100))
    for _ in range(12):
        detector.report("h0", 503)
        while detector.is_ejected("h0"):
            clock.advance(10.0)
            detector.tick()
    state = detector.host_state("h0")
    assert state is not None
    assert state.multiplier == 11
    detector.report("h0", 503)
    assert detector.ejection_duration_s("h0") == 300.0
    assert detector.max_ejection_time_s == 300.0


def test_a_configured_max_ejection_time_below_base_is_refused() -> None:
    """DetectorImpl::create: "max_ejection_time cannot be smaller than base_ejection_time"."""
    with pytest.raises(ValueError, match="max_ejection_time"):
        OutlierDetector(
            OutlierSpec(base_ejection_time_s=30.0, max_ejection_time_s=10.0), FakeClock()
        )


# --- membership, stats sink, events ------------------------------------------------------------


def test_removing_an_ejected_host_lowers_ejections_active() -> None:
    """addMemberUpdateCb: a removed ejected host decrements ejections_active."""
    store = StatsStore()
    detector = OutlierDetector(SPEC, FakeClock(), stats=ClusterStats(store, "c"))
    for host in ("a", "b"):
        detector.add_host(host)
    _fail(detector, "a", 3)
    assert store.get("cluster.c.outlier_detection.ejections_active") == 1
    assert store.get("cluster.c.outlier_detection.ejections_enforced_consecutive_5xx") == 1
    detector.remove_host("a")
    assert store.get("cluster.c.outlier_detection.ejections_active") == 0
    detector.report("a", 503)  # a host no longer in the cluster is ignored


def test_event_log_fields() -> None:
    """EventLoggerImpl: type, action, cluster_name, upstream_url, num_ejections, enforced,
    secs_since_last_action (since the previous opposite action)."""
    seen: list[OutlierEvent] = []
    clock = FakeClock()
    detector = OutlierDetector(
        SPEC, clock, cluster="outbound|8000||httpbin", on_event=seen.append, wall_time=lambda: 7.0
    )
    detector.add_host("10.0.0.1:8080")
    _fail(detector, "10.0.0.1:8080", 3)
    _run_ticks(detector, clock, 30.0)
    assert [e.as_dict() for e in seen] == [
        {
            "type": "CONSECUTIVE_5XX",
            "action": "EJECT",
            "cluster_name": "outbound|8000||httpbin",
            "upstream_url": "10.0.0.1:8080",
            "num_ejections": 1,
            "enforced": True,
            "secs_since_last_action": None,
            "timestamp": 7.0,
        },
        {
            "type": None,
            "action": "UNEJECT",
            "cluster_name": "outbound|8000||httpbin",
            "upstream_url": "10.0.0.1:8080",
            "num_ejections": 1,
            "enforced": True,
            "secs_since_last_action": 30,
            "timestamp": 7.0,
        },
    ]
    assert detector.event_log() == [e.as_dict() for e in seen]


def test_partial_enforcement_draws_from_the_seeded_rng() -> None:
    """enforceEjection: runtime featureEnabled(key, percent) — a draw per detection."""
    import random

    spec = OutlierSpec(consecutive_5xx=1, enforcing_consecutive_5xx=50, max_ejection_percent=100)
    detector = OutlierDetector(spec, FakeClock(), rng=random.Random(11))
    for i in range(400):
        detector.add_host(f"h{i}")
    for i in range(400):
        detector.report(f"h{i}", 503)
    enforced = detector.stats["outlier_detection.ejections_enforced_total"]
    assert 140 <= enforced <= 260  # 200 ± 6 sd (10)


# --- panic threshold -------------------------------------------------------------------------------


@dataclass
class Host:
    address: str
    eds_healthy: bool = True


@pytest.mark.parametrize(
    ("threshold", "ejected", "expected", "panic"),
    [
        (0, ["a"], ["b"], False),  # Istio's default minHealthPercent 0: never panic
        (0, ["a", "b"], [], False),  # all ejected, no panic: 503 UH no healthy upstream
        (50, ["a"], ["b"], False),  # 50 % healthy is not *below* 50 %
        (50, ["a", "b"], ["a", "b"], True),  # panic: every host, ejected or not
    ],
)
def test_panic_threshold_is_istios_min_health_percent(
    threshold: int, ejected: list[str], expected: list[str], panic: bool
) -> None:
    """LoadBalancerBase::isHostSetInPanic (healthy% < threshold); Istio maps minHealthPercent
    to common_lb_config.healthy_panic_threshold (cluster_traffic_policy.go)."""
    spec = OutlierSpec(consecutive_5xx=1, max_ejection_percent=100, min_health_percent=threshold)
    detector = OutlierDetector(spec, FakeClock())
    hosts = [Host("a"), Host("b")]
    for host in hosts:
        detector.add_host(host.address)
    for address in ejected:
        detector.report(address, 503)
    chosen, in_panic = detector.healthy_for_lb(hosts)
    assert [h.address for h in chosen] == expected
    assert in_panic is panic


def test_envoy_default_panic_counts_eds_unhealthy_hosts() -> None:
    """Without an outlierDetection block Istio leaves Envoy's 50 %: 1 of 3 healthy → panic,
    and the panic set includes EDS-unhealthy hosts."""
    hosts = [Host("a"), Host("b", eds_healthy=False), Host("c", eds_healthy=False)]
    chosen, panic = hosts_for_lb(hosts, lambda h: h.eds_healthy, 50.0)
    assert panic
    assert chosen == hosts
    chosen, panic = hosts_for_lb(hosts[:2], lambda h: h.eds_healthy, 50.0)
    assert (chosen, panic) == ([hosts[0]], False)
    detector = OutlierDetector(OutlierSpec(), FakeClock())
    chosen, panic = detector.healthy_for_lb(
        hosts, eds_healthy=lambda h: h.eds_healthy, panic_threshold_percent=0
    )
    assert (chosen, panic) == ([hosts[0]], False)
