"""Statistics for chaos assertions that fail only on evidence (stdlib only, no numpy).

- :mod:`~chaoskit.stats.proportion`: Wilson, Clopper–Pearson and Newcombe intervals.
- :mod:`~chaoskit.stats.quantiles`: type-7 quantiles and distribution-free quantile intervals.
- :mod:`~chaoskit.stats.bootstrap`: seeded percentile bootstrap for a ratio of quantiles.
- :mod:`~chaoskit.stats.verdict`: PASS / FAIL / INCONCLUSIVE judgements with a one-line why.
- :mod:`~chaoskit.stats.histogram`: a capped, reservoir-sampling latency recorder.
- :mod:`~chaoskit.stats.normal`, :mod:`~chaoskit.stats.beta`, :mod:`~chaoskit.stats.binomial`:
  the distributions underneath, implemented here.
"""

from __future__ import annotations

from chaoskit.stats._format import Unit
from chaoskit.stats.beta import (
    beta_ppf,
    regularized_beta,
)
from chaoskit.stats.binomial import (
    binomial_cdf,
    binomial_pmf,
)
from chaoskit.stats.bootstrap import quantile_ratio_interval
from chaoskit.stats.histogram import LatencyRecorder
from chaoskit.stats.interval import Interval
from chaoskit.stats.normal import (
    normal_cdf,
    normal_ppf,
    z_for,
)
from chaoskit.stats.proportion import (
    IntervalMethod,
    Proportion,
    clopper_pearson_interval,
    newcombe_difference,
    proportion_interval,
    required_sample_size,
    wilson_interval,
)
from chaoskit.stats.quantiles import (
    QuantileInterval,
    Ranks,
    min_samples_to_bound,
    quantile,
    quantile_interval,
    quantile_ranks,
)
from chaoskit.stats.verdict import (
    Judgement,
    Verdict,
    at_least,
    at_most,
    proportion_matches,
    quantile_at_least,
    quantile_at_most,
    quantile_ratio_at_most,
    rate_drop_at_most,
)

__all__ = [
    "Interval",
    "IntervalMethod",
    "Judgement",
    "LatencyRecorder",
    "Proportion",
    "QuantileInterval",
    "Ranks",
    "Unit",
    "Verdict",
    "at_least",
    "at_most",
    "beta_ppf",
    "binomial_cdf",
    "binomial_pmf",
    "clopper_pearson_interval",
    "min_samples_to_bound",
    "newcombe_difference",
    "normal_cdf",
    "normal_ppf",
    "proportion_interval",
    "proportion_matches",
    "quantile",
    "quantile_at_least",
    "quantile_at_most",
    "quantile_interval",
    "quantile_ranks",
    "quantile_ratio_at_most",
    "quantile_ratio_interval",
    "rate_drop_at_most",
    "regularized_beta",
    "required_sample_size",
    "wilson_interval",
    "z_for",
]
