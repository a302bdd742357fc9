"""Binomial probabilities computed stably: in log space, never as ``n choose k`` products.

``binomial_cdf`` goes through the incomplete beta function (``P(B <= k) = I_{1-p}(n-k, k+1)``),
accurate in the tails without summing thousands of terms. ``tail_table`` gives the
probability masses of ``Bin(n, p)`` that matter for a rank search: the terms outside a
Hoeffding window, where the total mass is below a stated ``epsilon``, are never computed,
so a search over n = 200 000 samples touches a few thousand terms, each from its
neighbour by an exact ratio (relative error ~1e-13 instead of lgamma's ~1e-9 at that n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chaoskit.stats._validate import check_int
from chaoskit.stats.beta import regularized_beta


def _check(n: int, p: float) -> None:
    check_int("binomial trials", n, 0)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a binomial probability must be in [0, 1], got {p!r}")


def binomial_log_pmf(k: int, n: int, p: float) -> float:
    """``log P(B = k)`` for ``B ~ Bin(n, p)``; ``-inf`` where the mass is zero."""
    _check(n, p)
    if not 0 <= k <= n:
        return -math.inf
    if p == 0.0:
        return 0.0 if k == 0 else -math.inf
    if p == 1.0:
        return 0.0 if k == n else -math.inf
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def binomial_pmf(k: int, n: int, p: float) -> float:
    """``P(B = k)`` for ``B ~ Bin(n, p)``."""
    return math.exp(binomial_log_pmf(k, n, p))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """``P(B <= k)`` for ``B ~ Bin(n, p)``, through ``I_{1-p}(n - k, k + 1)``."""
    _check(n, p)
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return regularized_beta(1.0 - p, n - k, k + 1)


@dataclass(frozen=True, slots=True)
class TailTable:
    """``pmf[i] = P(B = start + i)`` for ``B ~ Bin(n, p)``; mass outside is below ``epsilon``."""

    n: int
    p: float
    start: int
    pmf: tuple[float, ...]
    epsilon: float

    @property
    def stop(self) -> int:
        """The last ``k`` in the table (inclusive)."""
        return self.start + len(self.pmf) - 1


def tail_table(n: int, p: float, epsilon: float) -> TailTable:
    """The masses of ``Bin(n, p)`` inside a window holding all but ``epsilon`` of it.

    Hoeffding's inequality, ``P(|B - np| >= t) <= 2 exp(-2 t^2 / n)``, sets the window
    ``np ± t`` with ``t = sqrt(n/2 · ln(2/epsilon))``; it holds for every ``p``, skewed or not.
    """
    _check(n, p)
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon!r}")
    if p == 0.0:
        return TailTable(n, p, 0, (1.0,), epsilon)
    if p == 1.0:
        return TailTable(n, p, n, (1.0,), epsilon)
    t = math.sqrt(n / 2.0 * math.log(2.0 / epsilon))
    start = max(0, math.floor(n * p - t))
    stop = min(n, math.ceil(n * p + t))
    # Relative masses by the ratio P(k+1)/P(k) = (n-k)/(k+1) · p/(1-p), walking out from
    # the mode (weight 1), then normalised: the window holds all but epsilon of the mass,
    # and no lgamma(n) ~ 1e6 enters to cost 9 digits. Far tails may underflow to 0.
    mode = min(stop, max(start, math.floor((n + 1) * p)))
    odds = p / (1.0 - p)
    weights = [0.0] * (stop - start + 1)
    weights[mode - start] = 1.0
    weight = 1.0
    for k in range(mode, stop):
        weight *= (n - k) / (k + 1) * odds
        weights[k + 1 - start] = weight
    weight = 1.0
    for k in range(mode, start, -1):
        weight *= k / (n - k + 1) / odds
        weights[k - 1 - start] = weight
    total = math.fsum(weights)
    pmf = tuple(w / total for w in weights)
    return TailTable(n, p, start, pmf, epsilon)
