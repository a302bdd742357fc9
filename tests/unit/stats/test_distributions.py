"""Incomplete beta and binomial: checked against exact rational sums, not against themselves."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from chaoskit.stats import beta_ppf, binomial_cdf, binomial_pmf, regularized_beta
from chaoskit.stats.binomial import binomial_log_pmf, tail_table


def exact_binomial_cdf(k: int, n: int, p: Fraction) -> Fraction:
    """P(Bin(n, p) <= k) in exact rational arithmetic."""
    return sum(
        (Fraction(math.comb(n, j)) * p**j * (1 - p) ** (n - j) for j in range(k + 1)),
        Fraction(0),
    )


@settings(derandomize=True, max_examples=200)
@given(
    n=st.integers(min_value=1, max_value=60),
    data=st.data(),
    p_percent=st.integers(min_value=1, max_value=99),
)
def test_binomial_cdf_matches_exact_sum(n: int, data: st.DataObject, p_percent: int) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    p = Fraction(p_percent, 100)
    expected = float(exact_binomial_cdf(k, n, p))
    assert binomial_cdf(k, n, float(p)) == pytest.approx(expected, rel=1e-11, abs=1e-300)


@settings(derandomize=True, max_examples=200)
@given(
    a=st.integers(min_value=1, max_value=40),
    b=st.integers(min_value=1, max_value=40),
    x_permille=st.integers(min_value=1, max_value=999),
)
def test_regularized_beta_is_a_binomial_tail_for_integer_shapes(
    a: int, b: int, x_permille: int
) -> None:
    # I_x(a, b) = P(Bin(a + b - 1, x) >= a) for integers a, b >= 1.
    x = Fraction(x_permille, 1000)
    expected = float(1 - exact_binomial_cdf(a - 1, a + b - 1, x))
    assert regularized_beta(float(x), a, b) == pytest.approx(expected, rel=1e-11, abs=1e-15)


@pytest.mark.parametrize(("x", "b"), [(0.01, 3.5), (0.3, 5.0), (0.9, 0.5), (0.5, 200.0)])
def test_regularized_beta_closed_form_a_equals_one(x: float, b: float) -> None:
    # I_x(1, b) = 1 - (1 - x)^b, real-valued b included.
    assert regularized_beta(x, 1.0, b) == pytest.approx(1 - (1 - x) ** b, rel=1e-13)


def test_regularized_beta_symmetric_shapes_at_one_half() -> None:
    for a in (0.5, 1.0, 7.0, 1000.0, 100_000.0):
        assert regularized_beta(0.5, a, a) == pytest.approx(0.5, abs=1e-12)


def test_regularized_beta_edges_and_errors() -> None:
    assert regularized_beta(0.0, 2, 3) == 0.0
    assert regularized_beta(1.0, 2, 3) == 1.0
    with pytest.raises(ValueError, match="a > 0 and b > 0"):
        regularized_beta(0.5, 0, 1)
    with pytest.raises(ValueError, match="NaN"):
        regularized_beta(math.nan, 1, 1)


@settings(derandomize=True, max_examples=200)
@given(
    p=st.floats(min_value=1e-9, max_value=1 - 1e-9),
    a=st.floats(min_value=0.5, max_value=5000.0),
    b=st.floats(min_value=0.5, max_value=5000.0),
)
def test_beta_ppf_inverts_the_cdf(p: float, a: float, b: float) -> None:
    x = beta_ppf(p, a, b)
    assert 0.0 <= x <= 1.0
    assert regularized_beta(x, a, b) == pytest.approx(p, rel=1e-9, abs=1e-12)


def test_beta_ppf_closed_forms() -> None:
    # Beta(1, n): quantile 1 - (1 - p)^(1/n); Beta(n, 1): p^(1/n).
    assert beta_ppf(0.975, 1, 10) == pytest.approx(1 - 0.025**0.1, rel=1e-13)
    assert beta_ppf(0.025, 10, 1) == pytest.approx(0.025**0.1, rel=1e-13)
    assert beta_ppf(0.0, 2, 2) == 0.0
    assert beta_ppf(1.0, 2, 2) == 1.0


def test_beta_ppf_large_shapes_converge() -> None:
    # n = 200 000 trials: the continued fraction still converges, and quickly.
    x = beta_ppf(0.025, 100_000, 100_001)
    assert regularized_beta(x, 100_000, 100_001) == pytest.approx(0.025, rel=1e-8)
    assert 0.497 < x < 0.5


def test_binomial_pmf_sums_to_one_and_edges() -> None:
    assert math.fsum(binomial_pmf(k, 30, 0.37) for k in range(31)) == pytest.approx(1.0)
    assert binomial_pmf(0, 10, 0.0) == 1.0
    assert binomial_pmf(10, 10, 1.0) == 1.0
    assert binomial_log_pmf(3, 10, 0.0) == -math.inf
    assert binomial_pmf(11, 10, 0.5) == 0.0
    assert binomial_cdf(-1, 10, 0.5) == 0.0
    assert binomial_cdf(10, 10, 0.5) == 1.0


def test_binomial_pmf_does_not_underflow_through_products() -> None:
    # C(200000, 100000) overflows a float; its log-space pmf is ~ 1/sqrt(pi n / 2).
    assert binomial_pmf(100_000, 200_000, 0.5) == pytest.approx(
        1 / math.sqrt(math.pi * 100_000), rel=1e-5
    )


def test_tail_table_window_holds_all_but_epsilon() -> None:
    table = tail_table(200_000, 0.99, 1e-14)
    assert len(table.pmf) < 5_000  # a window, not 200 001 terms
    assert math.fsum(table.pmf) == pytest.approx(1.0, abs=1e-12)
    assert table.start <= 198_000 <= table.stop
    degenerate = tail_table(10, 0.0, 1e-9)
    assert (degenerate.start, degenerate.pmf) == (0, (1.0,))


def test_binomial_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binomial_cdf(1, 10, 1.5)
    with pytest.raises(TypeError):
        binomial_cdf(1, 10.0, 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epsilon"):
        tail_table(10, 0.5, 0.0)
