"""The seeded percentile bootstrap of a quantile ratio."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from chaoskit.stats import quantile, quantile_ratio_interval
from chaoskit.stats.bootstrap import resampled_quantile


def lognormal(seed: int, n: int, scale: float = 1.0) -> list[float]:
    rng = random.Random(seed)
    return [scale * rng.lognormvariate(-2.0, 0.5) for _ in range(n)]


def test_same_seed_same_interval_other_seed_other_interval() -> None:
    a, b = lognormal(1, 2000, 1.3), lognormal(2, 2000)
    first = quantile_ratio_interval(a, b, 0.95, 0.95, resamples=2000, seed=42)
    again = quantile_ratio_interval(a, b, 0.95, 0.95, resamples=2000, seed=42)
    other = quantile_ratio_interval(a, b, 0.95, 0.95, resamples=2000, seed=43)
    assert first == again
    assert first != other
    assert first.method == "percentile bootstrap"


def test_interval_brackets_the_true_ratio() -> None:
    # Same distribution scaled by 1.3: the population p95 ratio is exactly 1.3.
    a, b = lognormal(3, 5000, 1.3), lognormal(4, 5000)
    interval = quantile_ratio_interval(a, b, 0.95, seed=0)
    assert interval.contains(1.3)
    point = quantile(sorted(a), 0.95) / quantile(sorted(b), 0.95)
    assert interval.contains(point)
    assert interval.width < 0.2


def test_resampled_order_statistic_has_the_exact_bootstrap_distribution() -> None:
    """P(X*_(k) <= x_(j)) = P(Bin(n, j/n) >= k): the fast draw against the exact law."""
    n, q = 21, 0.75  # type 7: h = 15 exactly, so the quantile is X*_(16), uninterpolated
    k = 16
    values = [float(i) for i in range(1, n + 1)]
    rng = random.Random(11)
    draws = 40_000
    order_stats = [resampled_quantile(values, q, rng) for _ in range(draws)]
    worst = 0.0
    for j in range(1, n + 1):
        p = Fraction(j, n)
        exact = sum(
            (Fraction(math.comb(n, i)) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)),
            Fraction(0),
        )
        empirical = sum(v <= j for v in order_stats) / draws
        worst = max(worst, abs(empirical - float(exact)))
    # Kolmogorov-Smirnov: at 40 000 draws the 99.9 % critical distance is 0.0098.
    assert worst < 0.0098


def test_fast_draw_agrees_with_naive_resampling() -> None:
    values = sorted(lognormal(9, 60))
    fast_rng, naive_rng = random.Random(1), random.Random(2)
    runs = 20_000
    fast = sorted(resampled_quantile(values, 0.75, fast_rng) for _ in range(runs))
    naive = sorted(
        quantile(sorted(naive_rng.choices(values, k=len(values))), 0.75) for _ in range(runs)
    )
    for p in (0.05, 0.25, 0.5, 0.75, 0.95):
        assert quantile(fast, p) == pytest.approx(quantile(naive, p), rel=0.03)


def test_too_few_samples_give_an_unbounded_interval() -> None:
    # 50 samples cannot bound a p99: reshuffling the largest values would invent a bound.
    interval = quantile_ratio_interval(lognormal(5, 50), lognormal(6, 50), 0.99, seed=0)
    assert (interval.low, interval.high) == (0.0, math.inf)
    # Enough baseline but a short fault sample: still no upper bound.
    interval = quantile_ratio_interval(lognormal(5, 50), lognormal(6, 1000), 0.99, seed=0)
    assert interval.high == math.inf
    assert interval.low > 0.0


def test_single_value_and_validation() -> None:
    assert quantile_ratio_interval([2.0] * 10, [1.0] * 10, 0.5, seed=0).contains(2.0)
    assert resampled_quantile([3.0], 0.5, random.Random(0)) == 3.0
    with pytest.raises(ValueError, match="empty"):
        quantile_ratio_interval([], [1.0], 0.5)
    with pytest.raises(ValueError, match="> 0"):
        quantile_ratio_interval([1.0], [0.0, 1.0], 0.5)
    with pytest.raises(ValueError, match=">= 0"):
        quantile_ratio_interval([-1.0], [1.0], 0.5)
    with pytest.raises(ValueError, match="resamples"):
        quantile_ratio_interval([1.0], [1.0], 0.5, resamples=10)
