"""The normal distribution: AS 241 against textbook critical values and the stdlib."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings, strategies as st

from chaoskit.stats import normal_cdf, normal_ppf, z_for


@pytest.mark.parametrize(
    ("confidence", "z"),
    [
        # Two-sided critical values to 10 digits (Abramowitz and Stegun, Table 26.5).
        (0.80, 1.2815515655),
        (0.90, 1.6448536270),
        (0.95, 1.9599639845),
        (0.98, 2.3263478740),
        (0.99, 2.5758293035),
        (0.999, 3.2905267315),
    ],
)
def test_z_for_textbook_values(confidence: float, z: float) -> None:
    assert z_for(confidence) == pytest.approx(z, abs=5e-11)


def test_z_for_095_to_full_precision() -> None:
    assert z_for(0.95) == pytest.approx(1.959963984540054, rel=1e-15)


@pytest.mark.parametrize("p", [1e-16, 1e-50, 1e-300])
def test_far_tails_round_trip_through_the_cdf(p: float) -> None:
    # r = sqrt(-log p) > 5 selects AS 241's far-tail polynomial; erfc is independent of it.
    assert normal_cdf(normal_ppf(p)) == pytest.approx(p, rel=1e-12)


@settings(derandomize=True, max_examples=500)
@given(st.floats(min_value=1e-300, max_value=1 - 1e-16, exclude_min=False))
def test_ppf_agrees_with_the_stdlib(p: float) -> None:
    expected = statistics.NormalDist().inv_cdf(p)
    assert normal_ppf(p) == pytest.approx(expected, rel=1e-14, abs=1e-14)


@settings(derandomize=True, max_examples=300)
@given(st.floats(min_value=1e-12, max_value=1 - 1e-12))
def test_cdf_inverts_ppf(p: float) -> None:
    assert normal_cdf(normal_ppf(p)) == pytest.approx(p, rel=1e-12)


def test_cdf_known_values() -> None:
    assert normal_cdf(0.0) == 0.5
    assert normal_cdf(1.959963984540054) == pytest.approx(0.975, abs=1e-15)
    # The lower tail keeps relative precision where 1 - Φ(x) would underflow to 0.
    assert normal_cdf(-10.0) == pytest.approx(7.619853024160527e-24, rel=1e-12)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_ppf_rejects_probabilities_outside_the_open_unit_interval(bad: float) -> None:
    with pytest.raises(ValueError, match="0 < p < 1"):
        normal_ppf(bad)


def test_z_for_rejects_percentages_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"write 0\.95, not 95"):
        z_for(95)
    with pytest.raises(TypeError):
        z_for(True)
