"""Windows of synthetic records: the metrics, the three-way checks, the report data."""

from __future__ import annotations

import pytest

from chaoskit.assertions import Inconclusive
from chaoskit.errors import ConfigError
from chaoskit.load import LoadProfile, RequestRecord
from chaoskit.observe import EjectionTimeline, Window
from chaoskit.observe.ejections import Ejection

PROFILE = LoadProfile.build("http://127.0.0.1:9", duration="10s", markers=["Sorry"])


def record(
    i: int,
    *,
    status: int = 200,
    latency: float = 0.01,
    version: str | None = "v1",
    marker: bool = False,
    user: int = 0,
    pod: str | None = "a",
) -> RequestRecord:
    t = 1000.0 + i * 0.01
    return RequestRecord(
        t,
        t,
        latency,
        status,
        10,
        "" if status else "boom",
        version,
        int(marker),
        f"id-{i}",
        None,
        None,
        user,
        pod,
    )


class Sink:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def add_judgement(self, window: str, judgement, predicted=None, hint="") -> None:  # type: ignore[no-untyped-def]
        self.seen.append((window, judgement.verdict.value))


def window(records: list[RequestRecord], sink: Sink | None = None) -> Window:
    return Window("during fault", records, PROFILE, 1000.0, 1010.0, {"Sorry": 0}, sink=sink)


def test_success_rate_passes_fails_and_is_inconclusive_on_evidence() -> None:
    sink = Sink()
    good = window([record(i) for i in range(500)], sink)
    assert good.success_rate().at_least(0.99).passed
    bad = window([record(i, status=503 if i % 2 else 200) for i in range(500)], sink)
    with pytest.raises(AssertionError, match=r"success rate 50.0% \(95% CI .*n=500\) ≥ 99%: FAIL"):
        bad.success_rate().at_least(0.99)
    thin = window([record(i) for i in range(30)], sink)
    with pytest.raises(Inconclusive, match=r"about .* requests at this rate would decide it"):
        thin.success_rate().at_least(0.99)
    assert sink.seen == [
        ("during fault", "PASS"),
        ("during fault", "FAIL"),
        ("during fault", "INCONCLUSIVE"),
    ]


def test_too_few_requests_are_never_a_pass() -> None:
    with pytest.raises(Inconclusive, match="below the minimum of 20"):
        window([record(i) for i in range(5)]).success_rate().at_least(0.5)


def test_shares_by_text_version_status_and_predicate() -> None:
    records = [
        record(
            i, version="v2" if i < 300 else "v1", marker=i < 100, status=503 if i >= 390 else 200
        )
        for i in range(400)
    ]
    w = window(records)
    assert w.share(version="v2").rate == 0.75
    assert w.share(text="Sorry").rate == 100 / 390  # of the 390 pages that answered
    assert w.share(status=503).rate == 10 / 400
    assert w.share(where=lambda r: r.latency_s < 1).rate == 1.0
    w.share(version="v2").matches(0.75, tolerance=0.06)


def test_asking_for_text_the_load_did_not_look_for_is_an_error() -> None:
    with pytest.raises(ConfigError, match="pass look_for="):
        window([record(0)]).share(text="not declared")


def test_latency_quantiles_judge_from_order_statistics() -> None:
    w = window([record(i, latency=6.0 + (i % 10) * 0.01) for i in range(100)])
    w.latency(0.5).between("5.5s", "7s")
    with pytest.raises(AssertionError, match=r"p50 latency .* ≤ 1s: FAIL"):
        w.latency(0.5).at_most("1s")


def test_sticky_share_counts_requests_on_each_users_usual_pod() -> None:
    records = [record(i, user=i % 4, pod=f"pod-{i % 4}") for i in range(400)]
    assert window(records).sticky_share().rate == 1.0
    scattered = [record(i, user=i % 4, pod=f"pod-{i % 3}") for i in range(400)]
    assert window(scattered).sticky_share().rate < 0.5


def test_summary_and_series_for_the_report() -> None:
    w = window([record(i, status=503 if i == 3 else 200) for i in range(200)])
    summary = w.summary()
    assert summary["n"] == 200
    assert summary["ok"] == 199
    assert summary["statuses"] == {"200": 199, "503": 1}
    points = w.series()
    assert sum(p["n"] for p in points) == 200
    assert sum(p["errors"] for p in points) == 1
    assert w.to_json()["load"]["model"] == "closed"


def test_a_share_matches_only_within_a_band() -> None:
    """123 of 1,000 against a 10% share: inside a ±5-point band it matches; without a band
    it is inconclusive (saying to give one), never a pass; a stricter confidence widens
    the interval past the band's edge; half the rate is wholly outside."""
    records = [record(i, status=503 if i < 123 else 200) for i in range(1000)]
    share = Window("w", records, PROFILE, 1000.0, 1010.0).share(status=503)
    assert share.matches(0.10, tolerance=0.05).verdict.value == "PASS"
    with pytest.raises(Inconclusive, match="no tolerance band"):
        share.matches(0.10, confidence=0.999)
    with pytest.raises(Inconclusive, match="crosses an edge"):
        share.matches(0.10, tolerance=0.04, confidence=0.999)
    with pytest.raises(AssertionError, match=r"matches 5% ± 2%: FAIL"):
        share.matches(0.05, tolerance=0.02)


def test_the_requests_sent_while_a_host_was_ejected() -> None:
    """Records 0-999 are sent 10 ms apart from t=1000; a host is ejected from 1002 to 1004
    (200 requests) and again from 1008 on (never returned: 200 more)."""
    records = [record(i, status=503 if i < 200 else 200) for i in range(1000)]
    watched = window(records)
    watched.ejections = EjectionTimeline(
        [
            Ejection("reviews-v3", "c", "127.0.0.1:9080", 1002.0, 1004.0),
            Ejection("reviews-v3", "c", "127.0.0.1:9080", 1008.0),
        ],
        {"reviews-v3": {"127.0.0.1:9080"}},
        1000.0,
    )
    during = watched.while_ejected()
    assert during.n == 400
    assert during.label == "during fault (while ejected)"
    during.error_rate().at_most(0.01)  # the errors came before the first ejection
    with pytest.raises(ConfigError, match="watched no ejections"):
        window(records).while_ejected()


def test_gateway_flags_on_a_load_without_them_are_an_error_not_zero() -> None:
    """Without the entry sidecar's log, share(flag=) would be a vacuous 0 %."""
    with pytest.raises(ConfigError, match=r"no response flags.*load\.calls_to"):
        window([record(i) for i in range(50)]).share(flag="UO")
    flagged = window([record(i) for i in range(50)])
    flagged.flags = {f"id-{i}": "UO" if i < 10 else "-" for i in range(50)}
    assert flagged.share(flag="UO").rate == 0.2


def test_an_undecided_equivalence_check_says_how_many_requests_would_decide_it() -> None:
    """12% of 100 against 10% ± 4%: the interval (7–20%) crosses the band's edge; at the
    same rate, a few hundred requests would put it inside (the whole count is computed
    from the interval, as for ≥ and ≤ checks)."""
    records = [record(i, version="canary" if i % 25 < 3 else "v1") for i in range(100)]
    with pytest.raises(Inconclusive, match=r"about (\d+) requests at this rate would decide it"):
        window(records).share(version="canary").matches(0.10, tolerance=0.04)


def test_a_rate_judged_against_a_baseline_window() -> None:
    """The steady state: the success rate fell by at most 3 points from the baseline
    window (Newcombe's interval for the difference); a 10-point fall is a FAIL."""
    baseline = Window("baseline", [record(i) for i in range(600)], PROFILE, 1000.0, 1010.0)
    steady = window([record(i, status=503 if i % 100 == 0 else 200) for i in range(600)])
    judgement = steady.success_rate().dropped_at_most(baseline.success_rate(), 0.03)
    assert judgement.passed
    assert judgement.explain().startswith("drop in success rate from baseline 1.0 pp")
    broken = window([record(i, status=503 if i % 10 == 0 else 200) for i in range(600)])
    with pytest.raises(AssertionError, match=r"drop in success rate from baseline 10\.0 pp"):
        broken.success_rate().dropped_at_most(baseline.success_rate(), 0.03)


def test_a_bad_share_judged_against_a_baseline_window() -> None:
    """Error pages rose by at most 3 points from the baseline; a 20-point rise FAILs."""
    baseline = Window(
        "baseline", [record(i) for i in range(300)], PROFILE, 1000.0, 1010.0, {"Sorry": 0}
    )
    few = window([record(i, marker=i % 200 == 0) for i in range(600)])
    judgement = few.share(text="Sorry").rose_at_most(baseline.share(text="Sorry"), 0.03)
    assert judgement.passed
    assert "(95% CI" in judgement.explain()
    assert "n=600 vs 300" in judgement.explain()
    many = window([record(i, marker=i % 5 == 0) for i in range(600)])
    with pytest.raises(
        AssertionError, match=r"rise in share of answered pages with 'Sorry' from baseline"
    ):
        many.share(text="Sorry").rose_at_most(baseline.share(text="Sorry"), 0.03)


def test_a_text_share_counts_only_the_pages_that_answered() -> None:
    """Fast 5xx have no page to show an error text: counted in the denominator they would
    let "at most 1% of pages say Sorry" pass on a window that failed outright."""
    failed = window([record(i, status=503) for i in range(500)])
    share = failed.share(text="Sorry")
    assert (share.successes, share.trials) == (0, 0)
    with pytest.raises(Inconclusive, match="no samples"):
        share.at_most(0.01)
    # Half the pages failed, a fifth of those that answered say Sorry: 20%, not 10%.
    mixed = window(
        [record(i, status=503 if i % 2 else 200, marker=i % 10 == 0) for i in range(500)]
    )
    assert mixed.share(text="Sorry").rate == pytest.approx(0.2)
    with pytest.raises(AssertionError, match=r"share of answered pages with 'Sorry' 20\.0%"):
        mixed.share(text="Sorry").at_most(0.1)
