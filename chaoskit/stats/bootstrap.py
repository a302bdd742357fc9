"""Percentile-bootstrap interval for the ratio of one quantile in two samples.

"Is the p99 under fault at most 1.5× the baseline p99?" has no exact distribution-free
answer, so it is bootstrapped (B. Efron and R. J. Tibshirani, *An Introduction to the
Bootstrap*, 1993, ch. 13, the percentile interval).

Each resample's quantile is drawn without building the resample. Resampling ``n`` sorted
values with replacement is ``x_(ceil(n·U_i))`` for uniform ``U_i``, a non-decreasing map
of the ``U_i``, so the resample's ``k``-th order statistic is ``x_(ceil(n·U_(k)))`` where
``U_(k) ~ Beta(k, n - k + 1)`` is the ``k``-th of ``n`` uniform order statistics, and
``U_(k+1)`` is ``U_(k)`` plus the minimum of ``n - k`` uniforms on ``(U_(k), 1)``. The
type-7 quantile needs those two order statistics only: the draws have exactly the
distribution of sort-and-interpolate over a full resample, at O(1) cost instead of
O(n log n), so 2000 resamples of 200 000 latencies take milliseconds.

A side that the order statistics of either sample cannot bound (see
:func:`chaoskit.stats.quantiles.quantile_ranks`) is reported as unbounded (``0`` or
``inf``): the bootstrap of a p99 from 50 samples only reshuffles the largest ones and
would invent a bound that the data do not support.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

from chaoskit.stats._validate import check_confidence, check_int, check_probability
from chaoskit.stats.interval import Interval
from chaoskit.stats.quantiles import quantile, quantile_ranks


def _sorted_sample(name: str, values: Iterable[float], *, positive: bool) -> list[float]:
    ordered = sorted(float(v) for v in values)
    if not ordered:
        raise ValueError(f"sample {name} is empty; a quantile ratio needs samples on both sides")
    if not all(map(math.isfinite, ordered)):
        raise ValueError(f"sample {name} holds a NaN or infinite value")
    if positive and ordered[0] <= 0.0:
        raise ValueError(f"sample {name} must be > 0 (it is a denominator), min {ordered[0]!r}")
    if ordered[0] < 0.0:
        raise ValueError(f"sample {name} must be >= 0, min {ordered[0]!r}")
    return ordered


def resampled_quantile(sorted_values: Sequence[float], q: float, rng: random.Random) -> float:
    """The type-7 ``q`` quantile of one bootstrap resample of ``sorted_values``.

    Same distribution as ``quantile(sorted(rng.choices(sorted_values, k=n)), q)``; see
    the module docstring.
    """
    n = len(sorted_values)
    if n == 1:
        return float(sorted_values[0])
    h = (n - 1) * q
    k = math.floor(h) + 1  # 1-based rank of the lower order statistic
    fraction = h - (k - 1)
    u_k = rng.betavariate(k, n - k + 1)
    lower = float(sorted_values[min(n, max(1, math.ceil(n * u_k))) - 1])
    if fraction <= 0.0 or k >= n:
        return lower
    u_next = u_k + (1.0 - u_k) * (1.0 - rng.random() ** (1.0 / (n - k)))
    upper = float(sorted_values[min(n, max(1, math.ceil(n * u_next))) - 1])
    return lower + fraction * (upper - lower)


def quantile_ratio_interval(
    a: Iterable[float],
    b: Iterable[float],
    q: float,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int | str = 0,
) -> Interval:
    """Percentile-bootstrap interval for ``quantile(a, q) / quantile(b, q)``.

    ``a`` must be >= 0 and ``b`` > 0 (latencies). ``random.Random(seed)`` drives every
    draw, so a seed gives the same interval on every run. The upper bound
    is ``inf`` when ``a`` cannot bound its quantile above or ``b`` below, and the lower
    bound is 0 when ``a`` cannot bound it below or ``b`` above.
    """
    q = check_probability("q", q)
    c = check_confidence(confidence)
    check_int("resamples", resamples, 100)
    sa = _sorted_sample("a", a, positive=False)
    sb = _sorted_sample("b", b, positive=True)
    rng = random.Random(seed)
    ratios = sorted(
        resampled_quantile(sa, q, rng) / resampled_quantile(sb, q, rng) for _ in range(resamples)
    )
    half_alpha = (1.0 - c) / 2.0
    low = quantile(ratios, half_alpha)
    high = quantile(ratios, 1.0 - half_alpha)
    ranks_a = quantile_ranks(len(sa), q, c)
    ranks_b = quantile_ranks(len(sb), q, c)
    if ranks_a.upper is None or ranks_b.lower is None:
        high = math.inf
    if ranks_a.lower is None or ranks_b.upper is None:
        low = 0.0
    return Interval(low, high, c, "percentile bootstrap")
