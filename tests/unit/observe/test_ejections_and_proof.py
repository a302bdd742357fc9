"""The ejection timeline from sampled /clusters, and the proof that a fault took effect."""

from __future__ import annotations

import pytest

from chaoskit.assertions import Inconclusive
from chaoskit.observe import EjectionSampler, EjectionTimeline
from chaoskit.observe.ejections import Ejection, ejected_hosts, enforced_totals
from chaoskit.observe.proof import (
    Injection,
    faults_in_config,
    injection_counts,
    judge_injection,
    requests_to_see_one,
)
from chaoskit.stats import Judgement

CLUSTER = "outbound|9080||ratings.bookinfo.svc.cluster.local"


def clusters(*ejected: str) -> str:
    lines = []
    for host in ("127.0.0.1:9080", "127.0.0.2:9080", "127.0.0.3:9080"):
        flag = "/failed_outlier_check" if host in ejected else "healthy"
        lines.append(f"{CLUSTER}::{host}::health_flags::{flag}")
    return "\n".join(lines)


def stats(total: int) -> str:
    return f"cluster.{CLUSTER}.outlier_detection.ejections_enforced_total: {total}\n"


def test_ejected_hosts_are_read_from_health_flags() -> None:
    assert ejected_hosts(clusters("127.0.0.2:9080")) == {(CLUSTER, "127.0.0.2:9080")}
    assert enforced_totals(stats(3)) == {CLUSTER: 3}


def test_sampler_builds_periods_and_splits_a_re_ejection_it_could_not_see() -> None:
    frames = iter(
        [
            (clusters(), 0),
            (clusters("127.0.0.1:9080"), 1),
            (clusters("127.0.0.1:9080"), 1),
            (clusters("127.0.0.1:9080"), 2),  # came back and was ejected again in between
            (clusters(), 2),
        ]
    )
    current: dict[str, tuple[str, int]] = {}

    def read(_: str) -> str:
        current["frame"] = next(frames)
        return current["frame"][0]

    sampler = EjectionSampler(
        read, ["reviews-v3"], CLUSTER, read_stats=lambda _: stats(current["frame"][1])
    )
    for _ in range(5):
        sampler.sample_once()
    periods = sampler.ejections
    assert [(p.host, p.end is not None) for p in periods] == [("127.0.0.1:9080", True)] * 2
    timeline = EjectionTimeline(periods, sampler.hosts, periods[0].start)
    assert timeline.max_concurrent() == 1
    timeline.assert_at_most_ejected(1)
    with pytest.raises(
        AssertionError,
        match=r"most hosts ejected at once 2 \(n=2\) ≤ 1: FAIL \(maxEjectionPercent allows 1\)",
    ):
        EjectionTimeline(
            [*periods, type(periods[0])("reviews-v3", CLUSTER, "127.0.0.2:9080", periods[0].start)],
            {},
            0,
        ).assert_at_most_ejected(1)


def test_no_ejection_is_a_clear_failure() -> None:
    watched = {"reviews-v3": {"127.0.0.1:9080", "127.0.0.2:9080"}}
    with pytest.raises(
        AssertionError,
        match=r"time to the first outlier ejection n/a \(n=2\) ≤ 2s: FAIL \(no host was ejected\)",
    ):
        EjectionTimeline([], watched, 0.0).assert_ejected_within(0.0, 2.0)


def test_nothing_watched_is_inconclusive() -> None:
    """No host seen in any observer's /clusters: the sampler watched nothing (a wrong
    cluster name, say), which is never a pass and not evidence of a failure either."""
    with pytest.raises(Inconclusive):
        EjectionTimeline([], {}, 0.0).assert_ejected_within(0.0, 2.0)


def test_ejection_checks_are_recorded_as_evidence() -> None:
    """Passing ejection checks show in the report's evidence, with their window."""
    recorded: list[tuple[str, str]] = []

    class Sink:
        def add_judgement(
            self, window: str, judgement: Judgement, predicted: object = None, hint: str = ""
        ) -> None:
            recorded.append((window, judgement.explain()))

    periods = [Ejection("reviews-v3", CLUSTER, "127.0.0.1:9080", 10.5, 13.6)]
    timeline = EjectionTimeline(
        periods, {"reviews-v3": {"127.0.0.1:9080", "127.0.0.2:9080"}}, 10.0, "w", Sink()
    )
    assert timeline.assert_ejected_within(10.0, 2.0) == pytest.approx(0.5)
    timeline.assert_at_most_ejected(1)
    timeline.assert_returned_after(3.0, 1.0)
    assert recorded == [
        ("w", "time to the first outlier ejection 500ms (n=2) ≤ 2s: PASS"),
        ("w", "most hosts ejected at once 1 (n=2) ≤ 1: PASS (maxEjectionPercent allows 1)"),
        (
            "w",
            "shortest ejection 3.1s (n=1) ≥ 2.95s: PASS "
            "(baseEjectionTime 3s, sampled every ≤0.05s)",
        ),
        (
            "w",
            "longest ejection 3.1s (n=1) ≤ 4.05s: PASS (baseEjectionTime 3s, sampled every ≤0.05s)",
        ),
    ]


def test_the_ejection_length_margin_is_the_sampler_resolution() -> None:
    """An ejection seen 2.8 s long is true to a 3 s baseEjectionTime only if the samples
    were 0.2 s or more apart: the margin is what the sampler measured, not a constant."""
    periods = [Ejection("reviews-v3", CLUSTER, "127.0.0.1:9080", 10.5, 13.3)]
    watched = {"reviews-v3": {"127.0.0.1:9080", "127.0.0.2:9080"}}
    with pytest.raises(AssertionError, match=r"shortest ejection 2\.8s \(n=1\) ≥ 2\.95s: FAIL"):
        EjectionTimeline(periods, watched, 10.0).assert_returned_after(3.0, 1.0)
    coarse = EjectionTimeline(periods, watched, 10.0, resolution_s=0.25)
    coarse.assert_returned_after(3.0, 1.0)
    # The upper side allows one outlier interval (Envoy returns hosts on its ticks).
    late = [Ejection("reviews-v3", CLUSTER, "127.0.0.1:9080", 10.5, 14.6)]
    with pytest.raises(AssertionError, match=r"longest ejection 4\.1s \(n=1\) ≤ 4\.05s: FAIL"):
        EjectionTimeline(late, watched, 10.0).assert_returned_after(3.0, 1.0)


def test_the_sampler_measures_its_own_resolution() -> None:
    moments = iter([100.0, 100.01, 100.5, 100.52, 100.6, 100.61])
    sampler = EjectionSampler(lambda _: clusters(), ["reviews-v3"], CLUSTER, interval_s=0.05)
    assert sampler.resolution_s == pytest.approx(0.05)  # nothing measured yet
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("chaoskit.observe.ejections.time.time", lambda: next(moments))
        for _ in range(3):
            sampler.sample_once()
    # Rounds started at 100.0, 100.5, 100.6 (gaps 0.5, 0.1) and took up to 0.02 s.
    assert sampler.resolution_s == pytest.approx(0.52)


CONFIG = {
    "listeners": [
        {
            "route_config": {
                "virtual_hosts": [
                    {
                        "domains": ["ratings.bookinfo.svc.cluster.local:9080"],
                        "routes": [
                            {"name": "chaoskit-delay-1", "fault": {"delay_s": 7.0}},
                            {"name": "default", "fault": None},
                        ],
                    },
                    {
                        "domains": ["details.bookinfo:9080"],
                        "routes": [{"name": "x", "fault": {"abort_status": 503}}],
                    },
                ]
            }
        }
    ]
}


def test_faults_are_found_in_the_callers_route_table() -> None:
    assert faults_in_config(CONFIG, "ratings", "bookinfo") == [{"delay_s": 7.0}]
    assert faults_in_config(CONFIG, "reviews", "bookinfo") == []


def test_faults_are_found_where_envoy_keeps_them_on_a_real_sidecar() -> None:
    """Istio writes a route's fault into the route's per-filter config under the fault
    filter's name (pilot/pkg/networking/core/route); this is a trimmed real config_dump."""
    abort = {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
        "abort": {"http_status": 500, "percentage": {"numerator": 100}},
    }
    dump = {
        "configs": [
            {
                "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
                "dynamic_route_configs": [
                    {
                        "route_config": {
                            "name": "9080",
                            "virtual_hosts": [
                                {
                                    "name": "ratings.bookinfo.svc.cluster.local:9080",
                                    "domains": ["ratings.bookinfo.svc.cluster.local", "ratings"],
                                    "routes": [
                                        {
                                            "match": {"prefix": "/"},
                                            "typed_per_filter_config": {
                                                "envoy.filters.http.fault": abort
                                            },
                                        },
                                        {"match": {"prefix": "/"}},
                                    ],
                                }
                            ],
                        }
                    }
                ],
            }
        ]
    }
    assert faults_in_config(dump, "ratings", "bookinfo") == [abort]
    assert faults_in_config(dump, "reviews", "bookinfo") == []


def test_the_injection_rate_is_judged_against_the_configured_percentage() -> None:
    records = [
        {
            "direction": "outbound",
            "authority": "ratings:9080",
            "route_name": "r",
            "response_flags": "FI" if i % 10 == 0 else "-",
        }
        for i in range(1000)
    ] + [
        {
            "direction": "inbound",
            "authority": "ratings:9080",
            "route_name": "r",
            "response_flags": "FI",
        }
    ]
    counts = injection_counts(records, "ratings", "bookinfo", "FI", "r")
    assert (counts.matched, counts.injected) == (1000, 100)
    assert judge_injection(counts, 10, "abort").passed
    assert judge_injection(counts, 50, "abort").failed


def test_a_fault_that_acted_but_is_not_pinned_down_is_consistent_with_its_rate() -> None:
    """36 of 901 at a configured 5 %: the 99.9 % interval (2.3–6.7 %) crosses the band's
    edge, yet the fault plainly acted at about its rate, so the proof holds."""
    judgement = judge_injection(Injection(901, 36, "FI"), 5, "abort")
    assert judgement.passed
    assert judgement.relation == "consistent with"


def test_a_fault_never_seen_to_act_proves_nothing() -> None:
    """0 of 40 at 5 % is not evidence either way (0.95^40 ≈ 13 %): inconclusive, with the
    number of requests after which seeing none would be evidence; 0 of 900 is a FAIL."""
    few = judge_injection(Injection(40, 0, "FI"), 5, "abort")
    assert few.inconclusive
    assert "about 135 requests" in few.reason
    assert requests_to_see_one(0.05) == 135  # 0.95^135 < 0.001 < 0.95^134
    assert 0.95**135 < 0.001 < 0.95**134
    assert judge_injection(Injection(900, 0, "FI"), 5, "abort").failed


def test_reaching_the_ejection_cap_is_checked_both_ways() -> None:
    """Two failing hosts out at once reach a cap of two; one alone does not."""
    watched = {"fortio": {f"127.0.0.{i}:8080" for i in range(1, 6)}}
    both = [
        Ejection("fortio", CLUSTER, "127.0.0.1:8080", 1.0, 4.0),
        Ejection("fortio", CLUSTER, "127.0.0.2:8080", 1.2, None),
    ]
    EjectionTimeline(both, watched, 0.0).assert_at_least_ejected(2)
    with pytest.raises(AssertionError, match=r"most hosts ejected at once 1 \(n=5\) ≥ 2: FAIL"):
        EjectionTimeline(both[:1], watched, 0.0).assert_at_least_ejected(2)
