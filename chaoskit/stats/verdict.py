"""Three-way verdicts that fail only on evidence.

A check passes when its whole confidence interval is on the right side of the threshold,
fails when the whole interval is on the wrong side, and is *inconclusive* otherwise: too
few samples, or a true value so close to the threshold that the data cannot tell. An
inconclusive result is not a pass.

With two-sided intervals at confidence ``c``, every PASS and every FAIL is wrong with
probability at most ``(1 - c)/2``, for every n and every threshold: rates are decided on
Clopper–Pearson's interval (:data:`DECISION_METHOD`), quantiles on order statistics, and
both have guaranteed one-sided coverage (``tests/unit/stats/test_exact_error.py`` sums the
binomial over every outcome to show it). Wilson's interval, closer to nominal on average,
has no such floor near 0 or 1: with the true rate exactly on the threshold a 95 % Wilson
check FAILs falsely 3.1 % of the time for n = 500 at 99 % and 5.3 % for n = 2000 at
99.9 %, so it serves display only. A share "matches" only within a stated band (an
equivalence test): a wide interval is never a pass. The bootstrap ratio check is
approximate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from chaoskit.stats._format import (
    Unit,
    precision_for,
    range_text,
    threshold_text,
    value_text,
)
from chaoskit.stats._validate import (
    check_confidence,
    check_finite,
    check_int,
    check_probability,
)
from chaoskit.stats.bootstrap import quantile_ratio_interval
from chaoskit.stats.interval import Interval
from chaoskit.stats.proportion import IntervalMethod, Proportion, newcombe_difference
from chaoskit.stats.quantiles import min_samples_to_bound, quantile, quantile_interval

# The interval every rate decision is made on: exact one-sided coverage (Clopper and
# Pearson 1934), so a PASS or a FAIL is wrong with probability at most α/2 whatever n is.
DECISION_METHOD: IntervalMethod = "clopper-pearson"


class Verdict(StrEnum):
    """The outcome of a check: only ``PASS`` is a pass."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"


@dataclass(frozen=True, slots=True)
class Judgement:
    """A verdict with its evidence: what was measured, how sure, against what.

    ``observed`` is ``None`` when there was nothing to measure (n = 0). ``relation`` is
    ``"≥"``, ``"≤"`` or ``"matches"``. ``reason`` says why a verdict is inconclusive.
    ``baseline_n`` is the size of the second sample of a comparison.
    """

    verdict: Verdict
    subject: str
    relation: str
    threshold: float
    observed: float | None
    interval: Interval | None
    n: int
    unit: Unit = "rate"
    reason: str = ""
    tolerance: float | None = None
    baseline_n: int | None = None

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.FAIL

    @property
    def inconclusive(self) -> bool:
        return self.verdict is Verdict.INCONCLUSIVE

    def _precision(self) -> int:
        shown: list[float] = []
        if self.observed is not None:
            shown.append(self.observed)
        if self.interval is not None:
            shown.extend((self.interval.low, self.interval.high))
        return precision_for(self.threshold, self.unit, tuple(shown))

    def explain(self) -> str:
        """One line, e.g. ``success rate 97.2% (95% CI 96.1–98.0%, n=1200) ≥ 95%: PASS``."""
        precision = self._precision()
        sizes = f"n={self.n}" if self.baseline_n is None else f"n={self.n} vs {self.baseline_n}"
        if self.observed is None:
            measured = f"{self.subject} n/a ({sizes})"
        elif self.interval is None:
            measured = f"{self.subject} {value_text(self.observed, self.unit, precision)} ({sizes})"
        else:
            low, high = self.interval.low, self.interval.high
            ci = range_text(low, high, self.unit, precision)
            level = f"{self.interval.confidence * 100:g}% CI"
            observed = value_text(self.observed, self.unit, precision)
            measured = f"{self.subject} {observed} ({level} {ci}, {sizes})"
        target = threshold_text(self.threshold, self.unit)
        if self.tolerance is not None:
            target += f" ± {threshold_text(self.tolerance, self.unit)}"
        why = f" ({self.reason})" if self.reason else ""
        return f"{measured} {self.relation} {target}: {self.verdict.value}{why}"

    def __str__(self) -> str:
        return self.explain()

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-safe data (an unbounded side is ``None``) for reports and transport."""
        interval: dict[str, object] | None = None
        if self.interval is not None:
            interval = {
                "low": self.interval.low if self.interval.bounded_below else None,
                "high": self.interval.high if self.interval.bounded_above else None,
                "confidence": self.interval.confidence,
                "method": self.interval.method,
            }
        observed = self.observed
        return {
            "verdict": self.verdict.value,
            "subject": self.subject,
            "relation": self.relation,
            "threshold": self.threshold,
            "tolerance": self.tolerance,
            "observed": observed if observed is not None and math.isfinite(observed) else None,
            "interval": interval,
            "n": self.n,
            "baseline_n": self.baseline_n,
            "unit": self.unit,
            "reason": self.reason,
            "explanation": self.explain(),
        }


def _check_min_n(min_n: int) -> int:
    return check_int("min_n", min_n, 1)


def _too_few(n: int, min_n: int) -> str:
    return "no samples" if n == 0 else f"n={n} is below the minimum of {min_n}"


def _straddles(threshold: float, unit: Unit) -> str:
    return f"the interval straddles {threshold_text(threshold, unit)}; more samples narrow it"


def _above(interval: Interval, limit: float) -> Verdict:
    """``≤ limit`` decided on ``interval``: PASS if all of it is, FAIL if none of it is."""
    if interval.high <= limit:
        return Verdict.PASS
    if interval.low > limit:
        return Verdict.FAIL
    return Verdict.INCONCLUSIVE


def _proportion_check(
    proportion: Proportion,
    threshold: float,
    confidence: float,
    *,
    at_least: bool,
    method: IntervalMethod,
    subject: str,
    min_n: int,
) -> Judgement:
    threshold = check_probability("threshold", threshold)
    c = check_confidence(confidence)
    min_n = _check_min_n(min_n)
    n = proportion.trials
    interval = proportion.interval(c, method) if n else None
    observed = proportion.rate if n else None
    relation = "≥" if at_least else "≤"
    if interval is None or n < min_n:
        verdict, reason = Verdict.INCONCLUSIVE, _too_few(n, min_n)
    else:
        if at_least:
            verdict = (
                Verdict.PASS
                if interval.low >= threshold
                else Verdict.FAIL
                if interval.high < threshold
                else Verdict.INCONCLUSIVE
            )
        else:
            verdict = _above(interval, threshold)
        reason = _straddles(threshold, "rate") if verdict is Verdict.INCONCLUSIVE else ""
    return Judgement(verdict, subject, relation, threshold, observed, interval, n, "rate", reason)


def at_least(
    proportion: Proportion,
    threshold: float,
    confidence: float = 0.95,
    *,
    method: IntervalMethod = DECISION_METHOD,
    subject: str = "success rate",
    min_n: int = 1,
) -> Judgement:
    """Is the rate behind ``proportion`` at least ``threshold``?

    PASS when the interval's lower bound is >= ``threshold``, FAIL when its upper bound
    is below it, INCONCLUSIVE otherwise or with fewer than ``min_n`` trials.
    """
    return _proportion_check(
        proportion,
        threshold,
        confidence,
        at_least=True,
        method=method,
        subject=subject,
        min_n=min_n,
    )


def at_most(
    proportion: Proportion,
    threshold: float,
    confidence: float = 0.95,
    *,
    method: IntervalMethod = DECISION_METHOD,
    subject: str = "error rate",
    min_n: int = 1,
) -> Judgement:
    """Is the rate behind ``proportion`` at most ``threshold``? (The mirror of :func:`at_least`.)

    PASS when the upper bound is <= ``threshold``, FAIL when the lower bound is above it.
    """
    return _proportion_check(
        proportion,
        threshold,
        confidence,
        at_least=False,
        method=method,
        subject=subject,
        min_n=min_n,
    )


NO_BAND = (
    "no tolerance band: a share matches only within a stated band (expected ± tolerance), "
    "never because its interval is wide; pass tolerance="
)


def proportion_matches(
    successes: int,
    trials: int,
    expected: float,
    confidence: float = 0.95,
    *,
    tolerance: float | None = None,
    method: IntervalMethod = DECISION_METHOD,
    subject: str = "share",
    min_n: int = 1,
) -> Judgement:
    """Does ``successes/trials`` match an ``expected`` share (an 80/20 traffic split)?

    An equivalence check against the band ``expected ± tolerance``: PASS when the whole
    interval lies inside the band, FAIL when it lies wholly outside, INCONCLUSIVE when it
    overlaps an edge. Without a ``tolerance`` there is no band to be inside, so the check
    can only FAIL (the interval excludes ``expected``) or be INCONCLUSIVE: a sample never
    passes merely by being too vague to fail (0 of 20 is not "a 5 % share").
    """
    proportion = Proportion(successes, trials)
    expected = check_probability("expected", expected)
    c = check_confidence(confidence)
    min_n = _check_min_n(min_n)
    if tolerance is not None:
        tolerance = check_probability("tolerance", tolerance)
    interval = proportion.interval(c, method) if trials else None
    observed = proportion.rate if trials else None
    reason = ""
    if interval is None or trials < min_n:
        verdict, reason = Verdict.INCONCLUSIVE, _too_few(trials, min_n)
    elif tolerance is None:
        verdict = Verdict.INCONCLUSIVE if interval.contains(expected) else Verdict.FAIL
        if verdict is Verdict.INCONCLUSIVE:
            reason = NO_BAND
    else:
        band_low, band_high = expected - tolerance, expected + tolerance
        if band_low <= interval.low and interval.high <= band_high:
            verdict = Verdict.PASS
        elif interval.high < band_low or interval.low > band_high:
            verdict = Verdict.FAIL
        else:
            verdict = Verdict.INCONCLUSIVE
            reason = "the interval crosses an edge of the tolerance band; more samples narrow it"
    return Judgement(
        verdict,
        subject,
        "matches",
        expected,
        observed,
        interval,
        trials,
        "rate",
        reason,
        tolerance=tolerance,
    )


def rate_drop_at_most(
    before: Proportion,
    after: Proportion,
    max_drop: float,
    confidence: float = 0.95,
    *,
    subject: str = "success-rate drop",
    min_n: int = 1,
) -> Judgement:
    """Did the rate fall by at most ``max_drop`` (0.02 = 2 points) from ``before`` to ``after``?

    The drop ``rate(before) - rate(after)`` gets Newcombe's hybrid score interval; PASS
    when its upper bound is <= ``max_drop``, FAIL when its lower bound is above it.
    """
    max_drop = check_finite("max_drop", max_drop)
    if not -1.0 <= max_drop <= 1.0:
        raise ValueError(f"max_drop is a difference of rates in [-1, 1], got {max_drop:g}")
    c = check_confidence(confidence)
    min_n = _check_min_n(min_n)
    n, baseline_n = after.trials, before.trials
    if min(n, baseline_n) < min_n:
        return Judgement(
            Verdict.INCONCLUSIVE,
            subject,
            "≤",
            max_drop,
            before.rate - after.rate if n and baseline_n else None,
            None,
            n,
            "points",
            _too_few(min(n, baseline_n), min_n),
            baseline_n=baseline_n,
        )
    interval = newcombe_difference(before, after, c)
    verdict = _above(interval, max_drop)
    reason = _straddles(max_drop, "points") if verdict is Verdict.INCONCLUSIVE else ""
    return Judgement(
        verdict,
        subject,
        "≤",
        max_drop,
        before.rate - after.rate,
        interval,
        n,
        "points",
        reason,
        baseline_n=baseline_n,
    )


def _quantile_label(q: float) -> str:
    return f"p{q * 100:.6g}"


def _unbounded_reason(q: float, n: int, c: float, *, both: bool) -> str:
    """Why the samples give no bound, and how many would."""
    needed = min_samples_to_bound(q, c)
    label = _quantile_label(q)
    if needed is None:
        return f"no sample size bounds a {label} {'on both sides' if both else 'above'}"
    if both:
        return f"a {label} needs n≥{needed} in each sample to be bounded at {c * 100:g}%"
    return f"n={n} cannot bound a {label} above at {c * 100:g}%; that takes n≥{needed}"


def quantile_at_most(
    values: Iterable[float],
    q: float,
    limit_s: float,
    confidence: float = 0.95,
    *,
    subject: str | None = None,
    min_n: int = 1,
) -> Judgement:
    """Is the population ``q`` quantile of these latencies at most ``limit_s`` seconds?

    FAIL only when the order-statistic interval's lower bound exceeds the limit (evidence
    of a violation), PASS when its upper bound is within it, INCONCLUSIVE otherwise,
    including when the samples are too few to bound the quantile above at all.
    """
    limit_s = check_finite("limit_s", limit_s)
    q = check_probability("q", q)
    c = check_confidence(confidence)
    min_n = _check_min_n(min_n)
    ordered = sorted(float(v) for v in values)
    n = len(ordered)
    name = subject if subject is not None else f"{_quantile_label(q)} latency"
    if n < min_n:
        observed = quantile(ordered, q) if n else None
        reason = _too_few(n, min_n)
        return Judgement(
            Verdict.INCONCLUSIVE, name, "≤", limit_s, observed, None, n, "seconds", reason
        )
    estimate = quantile_interval(ordered, q, c)
    verdict = _above(estimate.interval, limit_s)
    reason = ""
    if verdict is Verdict.INCONCLUSIVE:
        reason = (
            _straddles(limit_s, "seconds")
            if estimate.bounded_above
            else _unbounded_reason(q, n, c, both=False)
        )
    return Judgement(
        verdict, name, "≤", limit_s, estimate.estimate, estimate.interval, n, "seconds", reason
    )


def quantile_at_least(
    values: Iterable[float],
    q: float,
    limit_s: float,
    confidence: float = 0.95,
    *,
    subject: str | None = None,
    min_n: int = 1,
) -> Judgement:
    """Is the population ``q`` quantile of these latencies at least ``limit_s`` seconds?

    The mirror of :func:`quantile_at_most` ("the page waited for its 6 s timeout"): PASS
    when the interval's lower bound reaches the limit, FAIL when its upper bound is below.
    """
    limit_s = check_finite("limit_s", limit_s)
    q = check_probability("q", q)
    c = check_confidence(confidence)
    min_n = _check_min_n(min_n)
    ordered = sorted(float(v) for v in values)
    n = len(ordered)
    name = subject if subject is not None else f"{_quantile_label(q)} latency"
    if n < min_n:
        observed = quantile(ordered, q) if n else None
        return Judgement(
            Verdict.INCONCLUSIVE,
            name,
            "≥",
            limit_s,
            observed,
            None,
            n,
            "seconds",
            _too_few(n, min_n),
        )
    estimate = quantile_interval(ordered, q, c)
    interval = estimate.interval
    if interval.low >= limit_s:
        verdict = Verdict.PASS
    elif interval.high < limit_s:
        verdict = Verdict.FAIL
    else:
        verdict = Verdict.INCONCLUSIVE
    reason = ""
    if verdict is Verdict.INCONCLUSIVE:
        reason = (
            _straddles(limit_s, "seconds")
            if interval.bounded_below
            else f"n={n} cannot bound a {_quantile_label(q)} below at {c * 100:g}%"
        )
    return Judgement(verdict, name, "≥", limit_s, estimate.estimate, interval, n, "seconds", reason)


def quantile_ratio_at_most(
    values: Iterable[float],
    baseline: Iterable[float],
    q: float,
    max_ratio: float,
    confidence: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int | str = 0,
    subject: str | None = None,
    min_n: int = 1,
) -> Judgement:
    """Is the ``q`` quantile of ``values`` at most ``max_ratio`` times that of ``baseline``?

    "p99 under fault ≤ 1.5× the steady-state p99", judged on a seeded percentile-bootstrap
    interval of the ratio (:func:`chaoskit.stats.bootstrap.quantile_ratio_interval`).
    """
    max_ratio = check_finite("max_ratio", max_ratio)
    if max_ratio <= 0.0:
        raise ValueError(f"max_ratio must be > 0, got {max_ratio:g}")
    q = check_probability("q", q)
    c = check_confidence(confidence)
    min_n = _check_min_n(min_n)
    a = sorted(float(v) for v in values)
    b = sorted(float(v) for v in baseline)
    name = subject if subject is not None else f"{_quantile_label(q)} latency ratio"
    if min(len(a), len(b)) < min_n:
        return Judgement(
            Verdict.INCONCLUSIVE,
            name,
            "≤",
            max_ratio,
            None,
            None,
            len(a),
            "ratio",
            _too_few(min(len(a), len(b)), min_n),
            baseline_n=len(b),
        )
    interval = quantile_ratio_interval(a, b, q, c, resamples=resamples, seed=seed)
    verdict = _above(interval, max_ratio)
    reason = ""
    if verdict is Verdict.INCONCLUSIVE:
        reason = (
            _straddles(max_ratio, "ratio")
            if interval.bounded_above
            else _unbounded_reason(q, min(len(a), len(b)), c, both=True)
        )
    observed = quantile(a, q) / quantile(b, q)
    return Judgement(
        verdict,
        name,
        "≤",
        max_ratio,
        observed,
        interval,
        len(a),
        "ratio",
        reason,
        baseline_n=len(b),
    )
