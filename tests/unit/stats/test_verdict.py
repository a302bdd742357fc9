"""Three-way verdicts: PASS on evidence, FAIL on evidence, INCONCLUSIVE otherwise."""

from __future__ import annotations

import json
import math
import random

import pytest

from chaoskit.stats import (
    Judgement,
    Proportion,
    Verdict,
    at_least,
    at_most,
    proportion_matches,
    quantile_at_most,
    quantile_ratio_at_most,
    rate_drop_at_most,
)
from chaoskit.stats.binomial import tail_table


def test_at_least_three_ways() -> None:
    assert at_least(Proportion(1166, 1200), 0.95).verdict is Verdict.PASS
    assert at_least(Proportion(1100, 1200), 0.95).verdict is Verdict.FAIL
    assert at_least(Proportion(1166, 1200), 0.97).verdict is Verdict.INCONCLUSIVE
    # Perfect but thin evidence is not a pass: 20/20 has Wilson lower bound 0.839.
    thin = at_least(Proportion(20, 20), 0.99)
    assert thin.inconclusive
    assert not thin.passed


def test_at_least_explain_line() -> None:
    judgement = at_least(Proportion(1166, 1200), 0.95)
    assert judgement.explain() == ("success rate 97.2% (95% CI 96.1–98.0%, n=1200) ≥ 95%: PASS")
    assert str(judgement) == judgement.explain()
    assert judgement.passed
    assert not judgement.failed
    assert not judgement.inconclusive


def test_at_most_three_ways() -> None:
    assert at_most(Proportion(3, 1000), 0.01).verdict is Verdict.PASS
    assert at_most(Proportion(40, 1000), 0.01).verdict is Verdict.FAIL
    inconclusive = at_most(Proportion(8, 1000), 0.01)
    assert inconclusive.verdict is Verdict.INCONCLUSIVE
    assert "straddles 1%" in inconclusive.explain()
    assert at_most(Proportion(3, 1000), 0.01).explain() == (
        "error rate 0.3% (95% CI 0.1–0.9%, n=1000) ≤ 1%: PASS"
    )


def test_boundaries_are_inclusive_where_the_relation_is() -> None:
    # A bound exactly on the threshold satisfies "≥"/"≤" (PASS), and never FAILs.
    full = Proportion(10, 10)
    assert at_least(full, 1.0).verdict is Verdict.INCONCLUSIVE  # can never prove 100 %
    assert at_least(full, 0.0).verdict is Verdict.PASS
    assert at_most(Proportion(0, 10), 0.0).verdict is Verdict.INCONCLUSIVE
    assert at_most(Proportion(0, 10), 1.0).verdict is Verdict.PASS


def test_clopper_pearson_is_more_cautious_than_wilson() -> None:
    cautious = at_least(Proportion(296, 300), 0.97, method="clopper-pearson")
    lenient = at_least(Proportion(296, 300), 0.97, method="wilson")
    assert cautious.interval is not None
    assert lenient.interval is not None
    assert cautious.interval.low < lenient.interval.low
    assert cautious.interval.high > lenient.interval.high
    assert cautious.interval.method == "clopper-pearson"


def test_no_data_and_minimum_sample_size_are_inconclusive() -> None:
    empty = at_least(Proportion(0, 0), 0.95)
    assert empty.verdict is Verdict.INCONCLUSIVE
    assert empty.observed is None
    assert empty.interval is None
    assert empty.explain() == "success rate n/a (n=0) ≥ 95%: INCONCLUSIVE (no samples)"
    few = at_least(Proportion(0, 50), 0.95, min_n=100)
    assert few.verdict is Verdict.INCONCLUSIVE
    assert "n=50 is below the minimum of 100" in few.explain()
    with pytest.raises(ValueError, match="min_n"):
        at_least(Proportion(1, 1), 0.5, min_n=0)
    with pytest.raises(ValueError, match=r"write 0\.95"):
        at_least(Proportion(1, 1), 95)


def latencies(seed: int, n: int, scale: float = 1.0) -> list[float]:
    rng = random.Random(seed)
    return [scale * rng.lognormvariate(-1.6, 0.4) for _ in range(n)]


def test_quantile_at_most_three_ways() -> None:
    values = latencies(1, 5000)  # p99 ≈ 0.5 s
    assert quantile_at_most(values, 0.99, 0.6).verdict is Verdict.PASS
    assert quantile_at_most(values, 0.99, 0.45).verdict is Verdict.FAIL
    assert quantile_at_most(values, 0.99, 0.5).verdict is Verdict.INCONCLUSIVE
    judgement = quantile_at_most(values, 0.99, 0.6)
    assert judgement.explain() == ("p99 latency 503ms (95% CI 485ms–543ms, n=5000) ≤ 600ms: PASS")
    assert judgement.unit == "seconds"


def test_quantile_at_most_unbounded_is_inconclusive_but_can_still_fail() -> None:
    values = latencies(1, 50)
    generous = quantile_at_most(values, 0.99, 10.0)
    assert generous.verdict is Verdict.INCONCLUSIVE  # never PASS without an upper bound
    assert generous.interval is not None
    assert not generous.interval.bounded_above
    assert generous.explain().endswith(
        "≤ 10s: INCONCLUSIVE (n=50 cannot bound a p99 above at 95%; that takes n≥368)"
    )
    assert "CI 340ms–∞" in generous.explain()
    # The lower bound X_(48) alone is evidence enough of a violation.
    assert quantile_at_most(values, 0.99, 0.1).verdict is Verdict.FAIL
    # p100 (the maximum) is never bounded above.
    assert "no sample size bounds a p100 above" in quantile_at_most(values, 1.0, 10.0).reason


def test_quantile_at_most_empty() -> None:
    empty = quantile_at_most([], 0.99, 0.1)
    assert empty.verdict is Verdict.INCONCLUSIVE
    assert empty.observed is None
    few = quantile_at_most([0.2, 0.3], 0.5, 1.0, min_n=10)
    assert few.verdict is Verdict.INCONCLUSIVE
    assert few.observed == pytest.approx(0.25)


def test_proportion_matches_without_tolerance_never_passes() -> None:
    # No band, nothing to be inside: a consistent share is INCONCLUSIVE, never a PASS.
    vague = proportion_matches(812, 1000, 0.8)
    assert vague.verdict is Verdict.INCONCLUSIVE
    assert "no tolerance band" in vague.reason
    assert vague.explain().startswith("share 81.2% (95% CI 78.6–83.6%, n=1000) matches 80%:")
    # The examples, which passed before: too vague to fail is not a match.
    assert proportion_matches(0, 20, 0.05).verdict is Verdict.INCONCLUSIVE
    assert proportion_matches(2, 20, 0.10).verdict is Verdict.INCONCLUSIVE
    # Evidence of another share still fails.
    assert proportion_matches(850, 1000, 0.8).verdict is Verdict.FAIL
    assert proportion_matches(0, 0, 0.8).verdict is Verdict.INCONCLUSIVE


def test_proportion_matches_with_tolerance_is_an_equivalence_check() -> None:
    # 5 requests are too few to place a share inside ±5 %.
    assert proportion_matches(4, 5, 0.8, tolerance=0.05).verdict is Verdict.INCONCLUSIVE
    assert proportion_matches(8120, 10000, 0.8, tolerance=0.02).verdict is Verdict.PASS
    # A deviation within the tolerance is no failure even when the CI excludes 80 %.
    assert proportion_matches(80300, 100000, 0.8).verdict is Verdict.FAIL
    assert proportion_matches(80300, 100000, 0.8, tolerance=0.01).verdict is Verdict.PASS
    # Wholly outside the band: FAIL.
    assert proportion_matches(9000, 10000, 0.8, tolerance=0.05).verdict is Verdict.FAIL
    assert (
        proportion_matches(8120, 10000, 0.8, tolerance=0.02)
        .explain()
        .endswith("matches 80% ± 2%: PASS")
    )


def test_rate_drop_three_ways() -> None:
    before = Proportion(1990, 2000)
    assert rate_drop_at_most(before, Proportion(1985, 2000), 0.02).verdict is Verdict.PASS
    assert rate_drop_at_most(before, Proportion(1900, 2000), 0.02).verdict is Verdict.FAIL
    middle = rate_drop_at_most(before, Proportion(1960, 2000), 0.02)
    assert middle.verdict is Verdict.INCONCLUSIVE
    assert middle.explain() == (
        "success-rate drop 1.5 pp (95% CI 0.8–2.2 pp, n=2000 vs 2000) ≤ 2 pp: INCONCLUSIVE "
        "(the interval straddles 2 pp; more samples narrow it)"
    )
    assert rate_drop_at_most(before, Proportion(0, 0), 0.02).verdict is Verdict.INCONCLUSIVE


def test_quantile_ratio_three_ways_and_determinism() -> None:
    baseline = latencies(2, 5000)
    slower = latencies(3, 5000, scale=1.3)
    passing = quantile_ratio_at_most(slower, baseline, 0.99, 1.6, seed=7)
    assert passing.verdict is Verdict.PASS
    assert passing == quantile_ratio_at_most(slower, baseline, 0.99, 1.6, seed=7)
    assert quantile_ratio_at_most(slower, baseline, 0.99, 1.1, seed=7).verdict is Verdict.FAIL
    assert quantile_ratio_at_most(slower, baseline, 0.99, 1.3, seed=7).verdict is (
        Verdict.INCONCLUSIVE
    )
    thin = quantile_ratio_at_most(slower[:100], baseline[:100], 0.99, 10.0, seed=7)
    assert thin.verdict is Verdict.INCONCLUSIVE
    assert "a p99 needs n≥368 in each sample" in thin.reason
    assert quantile_ratio_at_most([], baseline, 0.99, 1.5).verdict is Verdict.INCONCLUSIVE


def test_explain_shows_enough_digits_to_not_contradict_itself() -> None:
    # 94.99 % must not print as "95.0% ≥ 95%: INCONCLUSIVE".
    text = at_least(Proportion(9499, 10000), 0.95).explain()
    assert text.startswith("success rate 94.99% (95% CI 94.54–95.41%")
    # A rate below 1 never prints as 100.0 %.
    assert "100.0%" not in at_least(Proportion(99_999, 100_000), 0.99).explain().split("CI")[0]
    # Nor a limit of 250ms next to an observed 250.4ms.
    assert "250.4ms" in quantile_at_most([0.2504] * 400, 0.5, 0.25).explain()


def test_to_dict_is_json_safe() -> None:
    unbounded = quantile_at_most(latencies(1, 50), 0.99, 10.0)
    data = unbounded.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["interval"]["high"] is None
    assert data["verdict"] == "INCONCLUSIVE"
    assert data["explanation"] == unbounded.explain()
    assert (
        json.loads(json.dumps(at_least(Proportion(0, 0), 0.9).to_dict(), allow_nan=False))[
            "observed"
        ]
        is None
    )


def test_judgement_is_frozen() -> None:
    judgement = at_least(Proportion(1, 1), 0.5)
    assert isinstance(judgement, Judgement)
    with pytest.raises(AttributeError):
        judgement.verdict = Verdict.PASS  # type: ignore[misc]


def false_fail_probability(n: int, p: float, method: str) -> float:
    """P(FAIL) when the true rate is exactly the threshold: summed exactly over Bin(n, p)."""
    table = tail_table(n, p, 1e-12)  # outcomes outside it carry < 1e-12 in all
    return math.fsum(
        mass
        for x, mass in enumerate(table.pmf, start=table.start)
        if at_least(Proportion(x, n), p, method=method).failed  # type: ignore[arg-type]
    )


@pytest.mark.slow
def test_false_fail_rate_simulation_agrees_with_the_exact_sum() -> None:
    rng = random.Random(31337)
    fails = sum(
        at_least(Proportion(sum(rng.random() < 0.99 for _ in range(500)), 500), 0.99).failed
        for _ in range(2000)
    )
    # Exact (Clopper–Pearson, the decision interval): 1.3 %; the simulation's sd is 0.25 %.
    assert abs(fails / 2000 - false_fail_probability(500, 0.99, "clopper-pearson")) <= 0.016
