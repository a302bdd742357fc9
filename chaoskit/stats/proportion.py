"""Confidence intervals for a binomial proportion and for a difference of two.

- Wilson's score interval (E. B. Wilson, "Probable inference, the law of succession, and
  statistical inference", *JASA* 22:209–212, 1927), the default: close to nominal coverage
  at every n, and never outside [0, 1]. Newcombe's "method 3" (R. G. Newcombe, "Two-sided
  confidence intervals for the single proportion: comparison of seven methods",
  *Statistics in Medicine* 17:857–872, 1998).
- Clopper–Pearson's exact interval (C. J. Clopper and E. S. Pearson, *Biometrika*
  26:404–413, 1934): beta quantiles, coverage never below nominal, wider.
- Newcombe's hybrid score interval for ``p_a - p_b`` ("Interval estimation for the
  difference between independent proportions: comparison of eleven methods", *Statistics
  in Medicine* 17:873–890, 1998, method 10), built from the two Wilson intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from chaoskit.stats._validate import check_confidence, check_counts, check_probability
from chaoskit.stats.beta import beta_ppf
from chaoskit.stats.interval import Interval
from chaoskit.stats.normal import z_for

IntervalMethod = Literal["wilson", "clopper-pearson"]
METHODS: tuple[IntervalMethod, ...] = ("wilson", "clopper-pearson")


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson's score interval for the success probability behind ``successes/trials``.

    ``(2x + z² ∓ z·sqrt(z² + 4x(n-x)/n)) / (2(n + z²))``. It is ``[0, ·]`` at ``x = 0`` and
    ``[·, 1]`` at ``x = n``; with no trials it is all of ``[0, 1]``. For 8/10 at 95 % it
    is (0.4902, 0.9433); for 81/263, (0.2553, 0.3662) (Newcombe 1998a, Table I).
    """
    check_counts(successes, trials)
    c = check_confidence(confidence)
    if trials == 0:
        return Interval(0.0, 1.0, c, "wilson")
    z = z_for(c)
    z2 = z * z
    x, n = float(successes), float(trials)
    centre = 2.0 * x + z2
    spread = z * math.sqrt(z2 + 4.0 * x * (n - x) / n)
    denominator = 2.0 * (n + z2)
    low = 0.0 if successes == 0 else max(0.0, (centre - spread) / denominator)
    high = 1.0 if successes == trials else min(1.0, (centre + spread) / denominator)
    return Interval(low, high, c, "wilson")


def clopper_pearson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Clopper–Pearson's exact interval: ``[B(α/2; x, n-x+1), B(1-α/2; x+1, n-x)]``.

    ``B(p; a, b)`` is the beta quantile. The ends have closed forms, used as such:
    ``x = 0`` gives ``[0, 1 - (α/2)^(1/n)]`` (0/10 at 95 %: upper 0.3085) and ``x = n``
    gives ``[(α/2)^(1/n), 1]``. 8/10 at 95 % is (0.4439, 0.9748).
    """
    check_counts(successes, trials)
    c = check_confidence(confidence)
    if trials == 0:
        return Interval(0.0, 1.0, c, "clopper-pearson")
    half_alpha = (1.0 - c) / 2.0
    x, n = successes, trials
    if x == 0:
        low = 0.0
    elif x == n:
        low = half_alpha ** (1.0 / n)
    else:
        low = beta_ppf(half_alpha, x, n - x + 1)
    if x == n:
        high = 1.0
    elif x == 0:
        high = 1.0 - half_alpha ** (1.0 / n)
    else:
        high = beta_ppf(1.0 - half_alpha, x + 1, n - x)
    return Interval(low, high, c, "clopper-pearson")


def proportion_interval(
    successes: int, trials: int, confidence: float = 0.95, method: IntervalMethod = "wilson"
) -> Interval:
    """The interval of ``method`` (``"wilson"`` or ``"clopper-pearson"``)."""
    if method == "wilson":
        return wilson_interval(successes, trials, confidence)
    if method == "clopper-pearson":
        return clopper_pearson_interval(successes, trials, confidence)
    raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")


@dataclass(frozen=True, slots=True)
class Proportion:
    """``successes`` out of ``trials`` (for example 2xx responses out of requests sent)."""

    successes: int
    trials: int

    def __post_init__(self) -> None:
        check_counts(self.successes, self.trials)

    @property
    def failures(self) -> int:
        return self.trials - self.successes

    @property
    def rate(self) -> float:
        """``successes / trials``; NaN when there are no trials (there is no rate to give)."""
        return self.successes / self.trials if self.trials else math.nan

    def interval(self, confidence: float = 0.95, method: IntervalMethod = "wilson") -> Interval:
        """The confidence interval for the underlying rate (Wilson by default)."""
        return proportion_interval(self.successes, self.trials, confidence, method)

    def complement(self) -> Proportion:
        """Failures out of trials: the error rate of a success rate."""
        return Proportion(self.failures, self.trials)


def newcombe_difference(a: Proportion, b: Proportion, confidence: float = 0.95) -> Interval:
    """Newcombe's hybrid score interval (1998b, method 10) for ``rate(a) - rate(b)``.

    With Wilson intervals ``(l_a, u_a)`` and ``(l_b, u_b)`` and ``d = p_a - p_b``:
    ``[d - sqrt((p_a - l_a)² + (u_b - p_b)²), d + sqrt((u_a - p_a)² + (p_b - l_b)²)]``.
    Newcombe's Table II: 56/70 − 48/80 gives (0.0524, 0.3339); 9/10 − 3/10 gives
    (0.1705, 0.8090).
    """
    c = check_confidence(confidence)
    if a.trials == 0 or b.trials == 0:
        raise ValueError(
            f"a difference of proportions needs trials in both samples, got "
            f"{a.successes}/{a.trials} and {b.successes}/{b.trials}"
        )
    pa, pb = a.rate, b.rate
    wa, wb = a.interval(c), b.interval(c)
    d = pa - pb
    low = d - math.hypot(pa - wa.low, wb.high - pb)
    high = d + math.hypot(wa.high - pa, pb - wb.low)
    return Interval(max(-1.0, low), min(1.0, high), c, "newcombe hybrid score")


def _wilson_half_width(n: int, p: float, z: float) -> float:
    """Half the width of Wilson's interval around a rate ``p`` observed over ``n`` trials."""
    z2 = z * z
    return z * math.sqrt(n * p * (1.0 - p) + z2 / 4.0) / (n + z2)


def required_sample_size(p: float, margin: float, confidence: float = 0.95) -> int:
    """The fewest trials for which Wilson's interval around a rate ``p`` is ``p ± margin`` wide.

    The half-width ``z·sqrt(n·p(1-p) + z²/4) / (n + z²)`` falls strictly with ``n`` (it is
    1/2 at ``n = 0``), so the answer is the ceiling of the root of a quadratic, checked
    on the integers. Unlike Cochran's ``z²p(1-p)/margin²`` (385 for ``p = 0.5``, ±5 %, 95 %;
    this gives 381) it does not collapse to 0 as ``p`` nears 0 or 1: for ``p = 0.999``,
    ±0.5 % it asks for 464 trials, not 154.
    """
    rate = check_probability("p", p)
    c = check_confidence(confidence)
    if not 0.0 < margin < 0.5:
        raise ValueError(f"margin must be in (0, 0.5), got {margin!r} (write 0.01 for ±1 %)")
    z = z_for(c)
    z2 = z * z
    v = rate * (1.0 - rate)
    # margin²(n + z²)² = z²(n·v + z²/4), a quadratic A n² + B n + C = 0 with C < 0.
    a_ = margin * margin
    b_ = 2.0 * a_ * z2 - z2 * v
    c_ = a_ * z2 * z2 - z2 * z2 / 4.0
    n = max(1, math.ceil((-b_ + math.sqrt(b_ * b_ - 4.0 * a_ * c_)) / (2.0 * a_)))
    while _wilson_half_width(n, rate, z) > margin:
        n += 1
    while n > 1 and _wilson_half_width(n - 1, rate, z) <= margin:
        n -= 1
    return n
