"""Sample quantiles and distribution-free quantile intervals."""

from __future__ import annotations

import math
import random
import statistics
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from chaoskit.stats import (
    min_samples_to_bound,
    quantile,
    quantile_interval,
    quantile_ranks,
)


def exact_cdf(k: int, n: int, q: Fraction) -> Fraction:
    if k < 0:
        return Fraction(0)
    return sum(
        (Fraction(math.comb(n, j)) * q**j * (1 - q) ** (n - j) for j in range(min(k, n) + 1)),
        Fraction(0),
    )


def test_quantile_type_seven_known_values() -> None:
    data = [1.0, 2.0, 3.0, 4.0]
    assert quantile(data, 0.0) == 1.0
    assert quantile(data, 1.0) == 4.0
    assert quantile(data, 0.5) == 2.5
    assert quantile(data, 0.25) == 1.75  # R: quantile(1:4, 0.25) = 1.75
    assert quantile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError, match="no values"):
        quantile([], 0.5)
    with pytest.raises(ValueError, match=r"write 0\.99"):
        quantile(data, 99)


@settings(derandomize=True, max_examples=200)
@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=200)
)
def test_quantile_matches_statistics_inclusive(values: list[float]) -> None:
    # statistics.quantiles(method="inclusive") is type 7 at the cut points i/100.
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    for i, expected in enumerate(cuts, start=1):
        assert quantile(ordered, i / 100) == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_median_ranks_for_one_hundred() -> None:
    # Campbell & Gardner (BMJ 1988): n = 100, 95 % CI for the median is X_(40) .. X_(61).
    ranks = quantile_ranks(100, 0.5, 0.95)
    assert (ranks.lower, ranks.upper) == (40, 61)
    # Coverage 1 - 2 P(Bin(100, 1/2) <= 39).
    expected = 1 - 2 * exact_cdf(39, 100, Fraction(1, 2))
    assert ranks.coverage == pytest.approx(float(expected), rel=1e-12)
    assert ranks.coverage == pytest.approx(0.9648, abs=5e-5)


@settings(derandomize=True, max_examples=150)
@given(
    n=st.integers(min_value=1, max_value=80),
    q_percent=st.integers(min_value=1, max_value=99),
    confidence=st.sampled_from([Fraction(9, 10), Fraction(95, 100), Fraction(99, 100)]),
)
def test_ranks_are_the_extreme_ones_that_qualify(
    n: int, q_percent: int, confidence: Fraction
) -> None:
    """Checked against exact rational binomial sums, independent of the implementation."""
    q = Fraction(q_percent, 100)
    half_alpha = (1 - confidence) / 2
    ranks = quantile_ranks(n, float(q), float(confidence))
    # Lower: P(B <= l-1) <= α/2 and l is the largest such rank (l+1 fails or l = n).
    if ranks.lower is None:
        assert exact_cdf(0, n, q) > half_alpha
    else:
        assert exact_cdf(ranks.lower - 1, n, q) <= half_alpha
        assert ranks.lower == n or exact_cdf(ranks.lower, n, q) > half_alpha
    # Upper: P(B >= u) <= α/2 and u is the smallest such rank.
    if ranks.upper is None:
        assert 1 - exact_cdf(n - 1, n, q) > half_alpha
    else:
        assert 1 - exact_cdf(ranks.upper - 1, n, q) <= half_alpha
        assert ranks.upper == 1 or 1 - exact_cdf(ranks.upper - 2, n, q) > half_alpha
    lower = ranks.lower or 0
    upper = ranks.upper or n + 1
    assert lower < upper
    expected = exact_cdf(upper - 1, n, q) - exact_cdf(lower - 1, n, q)
    assert ranks.coverage == pytest.approx(float(expected), abs=1e-12)
    assert ranks.coverage >= float(confidence) - 1e-12


def test_p99_of_fifty_samples_is_unbounded_above() -> None:
    values = [0.001 * i for i in range(1, 51)]
    estimate = quantile_interval(values, 0.99, 0.95)
    assert estimate.ranks.lower == 48
    assert estimate.ranks.upper is None
    assert not estimate.exact
    assert estimate.bounded_below
    assert not estimate.bounded_above
    assert estimate.high == math.inf
    assert estimate.low == pytest.approx(0.048)
    assert estimate.estimate == pytest.approx(quantile(values, 0.99))
    # It still bounds the p99 below with probability P(B >= 48) = 0.9862.
    assert estimate.coverage == pytest.approx(0.9861827, abs=1e-6)


def test_extreme_quantiles_are_one_sided() -> None:
    # No sample bounds the population minimum below or the maximum above.
    low = quantile_ranks(1000, 0.0)
    assert (low.lower, low.upper) == (None, 1)
    high = quantile_ranks(1000, 1.0)
    assert (high.lower, high.upper) == (1000, None)
    assert min_samples_to_bound(0.0) is None
    assert min_samples_to_bound(1.0) is None
    empty = quantile_ranks(0, 0.5)
    assert (empty.lower, empty.upper, empty.coverage) == (None, None, 1.0)


@pytest.mark.parametrize(
    ("q", "needed"),
    # q^n <= 0.025: n >= ln(0.025)/ln(q).
    [(0.5, 6), (0.9, 36), (0.95, 72), (0.99, 368), (0.999, 3688), (0.01, 368)],
)
def test_min_samples_to_bound(q: float, needed: int) -> None:
    assert min_samples_to_bound(q, 0.95) == needed
    assert quantile_interval(range(1, needed + 1), q).exact
    assert not quantile_interval(range(1, needed), q).exact


def test_large_n_is_fast_and_sensible() -> None:
    ranks = quantile_ranks(200_000, 0.99, 0.95)
    assert ranks.lower is not None
    assert ranks.upper is not None
    # Normal approximation: n q ± z sqrt(n q (1-q)) = 198000 ± 87.2.
    assert abs(ranks.lower - (198_000 - 87)) <= 2
    assert abs(ranks.upper - (198_000 + 88)) <= 2
    assert 0.95 <= ranks.coverage < 0.955


def test_interval_is_of_order_statistics_and_unsorted_input_is_fine() -> None:
    rng = random.Random(5)
    values = [rng.expovariate(10.0) for _ in range(100)]
    estimate = quantile_interval(values, 0.5)
    ordered = sorted(values)
    assert estimate.low == ordered[39]
    assert estimate.high == ordered[60]
    assert estimate.exact
    assert estimate.n == 100
    assert estimate.q == 0.5
    assert estimate.interval.method == "order statistics"
    with pytest.raises(ValueError, match="at least one"):
        quantile_interval([], 0.5)
    with pytest.raises(ValueError, match="finite"):
        quantile_interval([1.0, math.nan], 0.5)


@pytest.mark.slow
def test_quantile_interval_coverage_simulation() -> None:
    # Exponential latencies (mean 100 ms): the true p90 is 0.1·ln(10). 2000 seeded runs.
    rng = random.Random(1998)
    truth = 0.1 * math.log(10.0)
    n = 200
    nominal = quantile_ranks(n, 0.9).coverage
    hits = sum(
        quantile_interval([rng.expovariate(10.0) for _ in range(n)], 0.9).interval.contains(truth)
        for _ in range(2000)
    )
    # Binomial sd of the observed coverage ~0.005; ±0.02 is 4 sd.
    assert abs(hits / 2000 - nominal) <= 0.02
