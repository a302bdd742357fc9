"""Proportion intervals against published values and seeded coverage simulations."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from chaoskit.stats import (
    Interval,
    Proportion,
    clopper_pearson_interval,
    newcombe_difference,
    proportion_interval,
    required_sample_size,
    wilson_interval,
    z_for,
)


def exact_cdf(k: int, n: int, p: float) -> float:
    """P(Bin(n, p) <= k) summed exactly over the float p's rational value."""
    pf = Fraction(p)
    return float(
        sum(
            (Fraction(math.comb(n, j)) * pf**j * (1 - pf) ** (n - j) for j in range(k + 1)),
            Fraction(0),
        )
    )


# Newcombe (1998a), "Two-sided confidence intervals for the single proportion",
# Statistics in Medicine 17:857-872, Table I: method 3 (Wilson score) and method 5
# (Clopper-Pearson exact), 95 %.
NEWCOMBE_TABLE_I = [
    # x, n, Wilson (low, high), Clopper-Pearson (low, high)
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize(("x", "n", "wilson", "exact"), NEWCOMBE_TABLE_I)
def test_newcombe_table_one(
    x: int, n: int, wilson: tuple[float, float], exact: tuple[float, float]
) -> None:
    w = wilson_interval(x, n)
    cp = clopper_pearson_interval(x, n)
    assert (w.low, w.high) == pytest.approx(wilson, abs=6e-5)
    assert (cp.low, cp.high) == pytest.approx(exact, abs=6e-5)


def test_wilson_eight_of_ten() -> None:
    # Textbook: 8/10 at 95 % -> (0.4902, 0.9433).
    interval = wilson_interval(8, 10, 0.95)
    assert interval.low == pytest.approx(0.490162, abs=1e-6)
    assert interval.high == pytest.approx(0.943318, abs=1e-6)
    assert interval.method == "wilson"
    assert interval.confidence == 0.95


def test_clopper_pearson_zero_of_ten_and_eight_of_ten() -> None:
    # 0/10: upper = 1 - 0.025^(1/10) = 0.3085 (the "rule of three" exact form).
    zero = clopper_pearson_interval(0, 10)
    assert zero.low == 0.0
    assert zero.high == pytest.approx(0.308497, abs=1e-6)
    # 8/10: (0.4439, 0.9748), e.g. R's binom.test(8, 10)$conf.int.
    eight = clopper_pearson_interval(8, 10)
    assert (eight.low, eight.high) == pytest.approx((0.443905, 0.974789), abs=1e-6)


@settings(derandomize=True, max_examples=150)
@given(n=st.integers(min_value=1, max_value=50), data=st.data())
def test_clopper_pearson_bounds_solve_the_binomial_tail_equations(
    n: int, data: st.DataObject
) -> None:
    # Definition: P(Bin(n, high) <= x) = α/2 and P(Bin(n, low) >= x) = α/2.
    x = data.draw(st.integers(min_value=0, max_value=n))
    interval = clopper_pearson_interval(x, n, 0.95)
    if x < n:
        assert exact_cdf(x, n, interval.high) == pytest.approx(0.025, rel=1e-9)
    if x > 0:
        assert 1 - exact_cdf(x - 1, n, interval.low) == pytest.approx(0.025, rel=1e-9)


def test_edges_zero_and_all_successes() -> None:
    for method in ("wilson", "clopper-pearson"):
        none = proportion_interval(0, 50, 0.95, method)
        assert none.low == 0.0
        assert 0.0 < none.high < 0.1
        everything = proportion_interval(50, 50, 0.95, method)
        assert everything.high == 1.0
        assert 0.9 < everything.low < 1.0
        nothing = proportion_interval(0, 0, 0.95, method)
        assert (nothing.low, nothing.high) == (0.0, 1.0)
    # Clopper-Pearson's x = n lower bound is (α/2)^(1/n).
    assert clopper_pearson_interval(50, 50).low == pytest.approx(0.025 ** (1 / 50))


@settings(derandomize=True, max_examples=300)
@given(n=st.integers(min_value=1, max_value=100_000), data=st.data())
def test_intervals_contain_the_rate_and_stay_in_unit_interval(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(min_value=0, max_value=n))
    confidence = data.draw(st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999]))
    rate = x / n
    for interval in (wilson_interval(x, n, confidence), clopper_pearson_interval(x, n, confidence)):
        assert 0.0 <= interval.low <= rate <= interval.high <= 1.0


def test_higher_confidence_is_wider() -> None:
    narrow, wide = wilson_interval(30, 100, 0.9), wilson_interval(30, 100, 0.99)
    assert wide.low < narrow.low
    assert narrow.high < wide.high


def test_proportion_value_object() -> None:
    p = Proportion(1166, 1200)
    assert p.rate == pytest.approx(0.97166, abs=1e-5)
    assert p.failures == 34
    assert p.complement() == Proportion(34, 1200)
    assert p.interval() == wilson_interval(1166, 1200)
    assert p.interval(0.99, "clopper-pearson") == clopper_pearson_interval(1166, 1200, 0.99)
    assert math.isnan(Proportion(0, 0).rate)
    with pytest.raises(ValueError, match="successes <= trials"):
        Proportion(5, 4)
    with pytest.raises(TypeError, match="int"):
        Proportion(1.0, 4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown interval method"):
        p.interval(0.95, "wald")  # type: ignore[arg-type]


# Newcombe (1998b), "Interval estimation for the difference between independent
# proportions: comparison of eleven methods", Statistics in Medicine 17:873-890,
# Table II, method 10 (hybrid score), 95 %.
NEWCOMBE_TABLE_II = [
    ((56, 70), (48, 80), (0.0524, 0.3339)),
    ((9, 10), (3, 10), (0.1705, 0.8090)),
    ((5, 56), (0, 29), (-0.0381, 0.1926)),
    ((0, 10), (0, 20), (-0.1611, 0.2775)),
    ((0, 10), (0, 10), (-0.2775, 0.2775)),
    ((10, 10), (0, 20), (0.6791, 1.0)),
    ((10, 10), (0, 10), (0.6075, 1.0)),
]


@pytest.mark.parametrize(("a", "b", "expected"), NEWCOMBE_TABLE_II)
def test_newcombe_table_two(
    a: tuple[int, int], b: tuple[int, int], expected: tuple[float, float]
) -> None:
    interval = newcombe_difference(Proportion(*a), Proportion(*b), 0.95)
    assert (interval.low, interval.high) == pytest.approx(expected, abs=6e-5)


def test_newcombe_is_antisymmetric_and_needs_trials() -> None:
    a, b = Proportion(56, 70), Proportion(48, 80)
    forward, backward = newcombe_difference(a, b), newcombe_difference(b, a)
    assert (forward.low, forward.high) == pytest.approx((-backward.high, -backward.low))
    with pytest.raises(ValueError, match="trials in both"):
        newcombe_difference(a, Proportion(0, 0))


def test_required_sample_size() -> None:
    # Cochran's z²p(1-p)/m² gives 385 for p = 0.5, ±5 %, 95 %; Wilson's narrower
    # interval reaches ±5 % at 381.
    n = required_sample_size(0.5, 0.05, 0.95)
    assert n == 381
    z = z_for(0.95)

    def half_width(trials: int, p: float) -> float:
        # Wilson's half-width at an observed rate p (the formula, with x = p·n real).
        return z * math.sqrt(trials * p * (1 - p) + z * z / 4) / (trials + z * z)

    # At p = 0 the formula is the real interval [0, z²/(n + z²)] of 0/n.
    n0 = required_sample_size(0.0, 0.01)
    assert wilson_interval(0, n0).high / 2 <= 0.01 < wilson_interval(0, n0 - 1).high / 2
    for p, margin in [(0.5, 0.05), (0.9, 0.01), (0.999, 0.005), (0.0, 0.01), (0.2, 0.1)]:
        n = required_sample_size(p, margin)
        assert half_width(n, p) <= margin < half_width(n - 1, p)
    # Near 0 or 1 it does not collapse the way Cochran's formula does (154 here).
    assert required_sample_size(0.999, 0.005) == 464
    with pytest.raises(ValueError, match="margin"):
        required_sample_size(0.5, 0.5)


def test_interval_value_object() -> None:
    interval = Interval(0.2, 0.4, 0.95, "wilson")
    assert interval.contains(0.2)
    assert interval.contains(0.4)
    assert not interval.contains(0.41)
    assert interval.width == pytest.approx(0.2)
    assert interval.bounded_below
    assert interval.bounded_above
    assert str(interval) == "[0.2, 0.4] (0.95 wilson)"
    unbounded = Interval(1.0, math.inf, 0.95)
    assert not unbounded.bounded_above
    assert unbounded.width == math.inf
    with pytest.raises(ValueError, match="low <= high"):
        Interval(0.5, 0.4, 0.95)
    with pytest.raises(ValueError, match="NaN"):
        Interval(math.nan, 0.4, 0.95)
    with pytest.raises(ValueError, match="confidence"):
        Interval(0.1, 0.4, 95)


def simulate_coverage(method: str, p: float, n: int, runs: int, seed: int) -> float:
    rng = random.Random(seed)
    covers: dict[int, bool] = {}  # one interval per distinct count, not per run
    hits = 0
    for _ in range(runs):
        x = sum(rng.random() < p for _ in range(n))
        if x not in covers:
            covers[x] = proportion_interval(x, n, 0.95, method).contains(p)  # type: ignore[arg-type]
        hits += covers[x]
    return hits / runs


@pytest.mark.slow
@pytest.mark.parametrize(("p", "n"), [(0.3, 100), (0.95, 200), (0.5, 40)])
def test_wilson_coverage_is_near_nominal(p: float, n: int) -> None:
    # 2000 seeded runs: the binomial sd of the observed coverage is 0.005, so a band of
    # ±0.025 around 95 % is 5 sd wide; with a fixed seed the result cannot change anyway.
    coverage = simulate_coverage("wilson", p, n, 2000, seed=20240601)
    assert 0.925 <= coverage <= 0.975


@pytest.mark.slow
def test_clopper_pearson_coverage_is_at_least_nominal() -> None:
    coverage = simulate_coverage("clopper-pearson", 0.95, 200, 2000, seed=7)
    assert coverage >= 0.94
