"""The regularized incomplete beta function ``I_x(a, b)`` and its inverse in ``x``.

``I_x(a, b)`` is evaluated with the continued fraction of Numerical Recipes (W. H. Press et
al., *Numerical Recipes*, 3rd ed., 2007, §6.4, ``betacf``), summed by the modified Lentz
method, and used directly on the side of ``(a + 1) / (a + b + 2)`` where it converges fast,
through ``I_x(a, b) = 1 - I_{1-x}(b, a)`` on the other. The inverse is plain bisection on
``x``: ``I_x`` is increasing in ``x``, so bisection cannot diverge, only take ~60 halvings.
"""

from __future__ import annotations

import math

_EPSILON = 1e-15  # relative accuracy of the continued fraction
_TINY = 1e-300  # Lentz's guard against a zero denominator


def _continued_fraction(a: float, b: float, x: float) -> float:
    """NR ``betacf``: the continued fraction of ``I_x(a, b)`` (without its front factor)."""
    # It needs O(sqrt(max(a, b))) terms at worst (NR §6.4); allow plenty more.
    max_terms = 1000 + 20 * math.isqrt(int(max(a, b)))
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, max_terms + 1):
        m2 = 2 * m
        # Even step of the recurrence.
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        # Odd step.
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# Stirling's series for lgamma: B_2k / (2k (2k - 1) z^(2k - 1)), k = 1..7.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)


def _stirling_error(z: float) -> float:
    """``lgamma(z) - ((z - 1/2) ln z - z + ln(2π)/2)``, small and computed without cancellation.

    For z >= 10, Stirling's series to the z^-13 term (the next one is below 3e-17 there);
    below, the difference itself, whose terms are small enough to subtract.
    """
    if z >= 10.0:
        inverse_square = 1.0 / (z * z)
        total = 0.0
        for coefficient in reversed(_STIRLING):
            total = total * inverse_square + coefficient
        return total / z
    return math.lgamma(z) - ((z - 0.5) * math.log(z) - z + _HALF_LOG_2PI)


def _log_front(x: float, a: float, b: float) -> float:
    """``log(x^a (1-x)^b / B(a, b))``, the continued fraction's front factor.

    ``lgamma(a + b) - lgamma(a) - lgamma(b)`` would cancel millions against millions for
    ``a, b ~ 1e5`` and lose 9 digits. Stirling's form keeps the large parts as
    ``a·log1p(u/a) + b·log1p(-u/b)`` with ``u = x·b - (1-x)·a``, which are small near the
    mean (where the quantiles are sought), as TOMS 708 does (A. R. DiDonato and A. H.
    Morris, *ACM TOMS* 18:360–373, 1992, ``brcomp``).
    """
    u = x * b - (1.0 - x) * a
    # log(x(a+b)/a) = log1p(u/a): log1p near the mean, the plain ratio far from it
    # (where 1 + u/a would lose the digits that log1p is meant to keep).
    log_ratio_a = math.log1p(u / a) if abs(u) < 0.5 * a else math.log(x * (a + b) / a)
    log_ratio_b = math.log1p(-u / b) if abs(u) < 0.5 * b else math.log((1.0 - x) * (a + b) / b)
    return (
        a * log_ratio_a
        + b * log_ratio_b
        + 0.5 * (math.log(a) + math.log(b) - math.log(a + b))
        - _HALF_LOG_2PI
        - _stirling_error(a)
        - _stirling_error(b)
        + _stirling_error(a + b)
    )


def _check_shape(a: float, b: float) -> None:
    if not (a > 0.0 and b > 0.0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"the beta distribution needs a > 0 and b > 0, got a={a}, b={b}")


def regularized_beta(x: float, a: float, b: float) -> float:
    """``I_x(a, b)``, the CDF at ``x`` of a Beta(a, b) variable (``a, b > 0``).

    ``I_x(1, b) = 1 - (1 - x)^b`` and ``I_x(a, 1) = x^a`` are the closed forms the tests
    check against; ``I_x(a, b) = P(Bin(a + b - 1, x) >= a)`` for integer ``a, b``.
    """
    _check_shape(a, b)
    if math.isnan(x):
        raise ValueError("regularized_beta: x is NaN")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(_log_front(x, a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def beta_ppf(p: float, a: float, b: float) -> float:
    """The ``x`` in [0, 1] with ``I_x(a, b) = p``: the ``p`` quantile of Beta(a, b).

    Bisection stops when the bracket is as narrow as floating point allows (relative
    width 1e-15), so the result is the quantile to about 15 significant digits.
    """
    _check_shape(a, b)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a beta quantile needs 0 <= p <= 1, got {p!r}")
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(2000):  # ~1100 halvings reach the smallest subnormal; never hit
        mid = 0.5 * (low + high)
        if mid in (low, high) or high - low <= 1e-15 * high:
            break
        if regularized_beta(mid, a, b) < p:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)
