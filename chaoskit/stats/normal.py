"""The standard normal distribution: its CDF (through ``math.erfc``) and its inverse.

The inverse is Wichura's algorithm AS 241, ``PPND16`` (M. J. Wichura, "Algorithm AS 241:
The Percentage Points of the Normal Distribution", *Applied Statistics* 37(3):477–484,
1988): three rational approximations of degree 7, accurate to about 1 part in 10^16.
"""

from __future__ import annotations

import math

from chaoskit.stats._validate import check_confidence

# AS 241, PPND16: |q| <= 0.425 (central region), r = 0.180625 - q*q.
_A = (
    3.387132872796366608,
    133.14166789178437745,
    1971.5909503065514427,
    13731.693765509461125,
    45921.953931549871457,
    67265.770927008700853,
    33430.575583588128105,
    2509.0809287301226727,
)
_B = (
    1.0,
    42.313330701600911252,
    687.1870074920579083,
    5394.1960214247511077,
    21213.794301586595867,
    39307.89580009271061,
    28729.085735721942674,
    5226.495278852854561,
)
# r = sqrt(-log(min(p, 1 - p))) <= 5: intermediate tail, polynomials in r - 1.6.
_C = (
    1.42343711074968357734,
    4.6303378461565452959,
    5.7694972214606914055,
    3.64784832476320460504,
    1.27045825245236838258,
    0.24178072517745061177,
    0.0227238449892691845833,
    7.7454501427834140764e-4,
)
_D = (
    1.0,
    2.05319162663775882187,
    1.6763848301838038494,
    0.68976733498510000455,
    0.14810397642748007459,
    0.0151986665636164571966,
    5.475938084995344946e-4,
    1.05075007164441684324e-9,
)
# r > 5: far tail, polynomials in r - 5.
_E = (
    6.6579046435011037772,
    5.4637849111641143699,
    1.7848265399172913358,
    0.29656057182850489123,
    0.026532189526576123093,
    0.0012426609473880784386,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_F = (
    1.0,
    0.59983220655588793769,
    0.13692988092273580531,
    0.0148753612908506148525,
    7.868691311456132591e-4,
    1.8463183175100546818e-5,
    1.4215117583164458887e-7,
    2.04426310338993978564e-15,
)


def _poly(coefficients: tuple[float, ...], x: float) -> float:
    """Horner's rule for ``c[0] + c[1]*x + ... + c[7]*x**7``."""
    total = 0.0
    for c in reversed(coefficients):
        total = total * x + c
    return total


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z; ``erfc`` keeps the lower tail accurate."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_ppf(p: float) -> float:
    """The x with P(Z <= x) = p (the probit), by Wichura's AS 241.

    ``p`` must lie strictly between 0 and 1. ``normal_ppf(0.975)`` is 1.959963984540054.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"the normal quantile needs 0 < p < 1, got {p!r}")
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        r -= 1.6
        x = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        x = _poly(_E, r) / _poly(_F, r)
    return -x if q < 0.0 else x


def z_for(confidence: float) -> float:
    """The two-sided critical value: ``z`` with P(-z <= Z <= z) = ``confidence``.

    ``z_for(0.95)`` is 1.959963984540054, ``z_for(0.99)`` is 2.5758293035489004.
    """
    c = check_confidence(confidence)
    # 1 - c is exact for c >= 0.5 (Sterbenz), so 0.999999 keeps its digits; 0.5 + c/2 would not.
    return -normal_ppf((1.0 - c) / 2.0)
