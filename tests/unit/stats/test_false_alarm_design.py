"""The false-alarm suite test's design, computed exactly: it cannot flake on honest checks,
and it cannot miss a miscalibrated interval (``tests/suite/test_false_alarms.py``)."""

from __future__ import annotations

import math

import pytest

from chaoskit.stats import Interval, Proportion, Verdict, binomial_cdf, proportion_matches
from chaoskit.stats.binomial import tail_table
from tests.suite.test_false_alarms import (
    BAND_CENTRE,
    BAND_TOLERANCE,
    HALF_ALPHA,
    MAX_FALSE_FAILS,
    MISCALIBRATED,
    REPETITIONS,
    TRUE_SHARE,
    WINDOW_REQUESTS,
)


def false_fail_rate(n: int, *, miscalibrated: bool, monkeypatch: pytest.MonkeyPatch) -> float:
    """P(FAIL) of the suite's canary check at the true share, summed over Bin(n, 10%)."""
    if miscalibrated:
        honest = Proportion.interval

        def built_at_20(self: Proportion, confidence: float = 0.95, method: str = "") -> Interval:
            low_confidence = honest(self, MISCALIBRATED, "clopper-pearson")
            return Interval(low_confidence.low, low_confidence.high, confidence, "miscalibrated")

        monkeypatch.setattr(Proportion, "interval", built_at_20)
    table = tail_table(n, TRUE_SHARE, 1e-12)
    rate = math.fsum(
        mass
        for x, mass in enumerate(table.pmf, start=table.start)
        if proportion_matches(x, n, BAND_CENTRE, tolerance=BAND_TOLERANCE).verdict is Verdict.FAIL
    )
    monkeypatch.undo()
    return rate


@pytest.mark.parametrize(
    "n", [int(0.8 * WINDOW_REQUESTS), WINDOW_REQUESTS, int(1.2 * WINDOW_REQUESTS)]
)
def test_honest_checks_at_the_edge_fail_at_most_half_alpha_and_never_trip_the_rule(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate = false_fail_rate(n, miscalibrated=False, monkeypatch=monkeypatch)
    assert 0.005 < rate <= HALF_ALPHA  # on the edge: near α/2, not vanishingly small
    # The chance that 60 honest repetitions exceed the rule's limit: below 0.1 %.
    assert 1.0 - binomial_cdf(MAX_FALSE_FAILS, REPETITIONS, HALF_ALPHA) < 1e-3


@pytest.mark.parametrize(
    "n", [int(0.8 * WINDOW_REQUESTS), WINDOW_REQUESTS, int(1.2 * WINDOW_REQUESTS)]
)
def test_a_miscalibrated_interval_is_caught(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rate = false_fail_rate(n, miscalibrated=True, monkeypatch=monkeypatch)
    assert rate > 0.3
    # The chance that 60 repetitions with it stay within the rule's limit: below 1e-4.
    assert binomial_cdf(MAX_FALSE_FAILS, REPETITIONS, rate) < 1e-4


def test_a_mid_band_design_could_not_catch_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the true share sits on the edge: in the middle of a ±4-point band around 10%
    even the miscalibrated interval almost never FAILs, so a test there proves nothing."""
    table = tail_table(WINDOW_REQUESTS, TRUE_SHARE, 1e-12)
    honest = Proportion.interval

    def built_at_20(self: Proportion, confidence: float = 0.95, method: str = "") -> Interval:
        low_confidence = honest(self, MISCALIBRATED, "clopper-pearson")
        return Interval(low_confidence.low, low_confidence.high, confidence, "miscalibrated")

    monkeypatch.setattr(Proportion, "interval", built_at_20)
    mid_band = math.fsum(
        mass
        for x, mass in enumerate(table.pmf, start=table.start)
        if proportion_matches(x, WINDOW_REQUESTS, 0.10, tolerance=0.04).verdict is Verdict.FAIL
    )
    assert mid_band < 0.01  # against about 35% on the edge
