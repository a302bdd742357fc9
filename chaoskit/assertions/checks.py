"""Rate and latency metrics with three-way checks, recorded for the report as they settle.

``window.success_rate().at_least(0.99)`` judges the Clopper–Pearson interval of the rate
against the limit (``chaoskit.stats``: a PASS or a FAIL is wrong with probability at most
α/2): PASS returns the judgement, FAIL raises ``AssertionError`` with
the evidence, INCONCLUSIVE raises :class:`Inconclusive` saying how many requests would
decide it. A sink that keeps going (a mutant run's record) takes the FAIL or INCONCLUSIVE
instead, and the test goes on to its other checks; the plugin raises the first at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from chaoskit.durations import parse_seconds
from chaoskit.errors import ChaoskitError, ConfigError
from chaoskit.stats import (
    IntervalMethod,
    Judgement,
    Proportion,
    Unit,
    Verdict,
    at_least,
    at_most,
    proportion_interval,
    proportion_matches,
    quantile_at_least,
    quantile_at_most,
    quantile_ratio_at_most,
    rate_drop_at_most,
)

DEFAULT_CONFIDENCE = 0.95
# Below this many requests a rate is never judged: the interval would be mostly width.
DEFAULT_MIN_N = 20


class Inconclusive(ChaoskitError):
    """The data cannot decide the check either way; the experiment did not pass."""

    def __init__(self, judgement: Judgement, hint: str = "") -> None:
        self.judgement = judgement
        text = f"INCONCLUSIVE: {judgement.explain()}"
        super().__init__(f"{text}; {hint}" if hint else text)


class JudgementSink(Protocol):
    """Where settled checks go (the experiment record behind the report)."""

    def add_judgement(
        self, window: str, judgement: Judgement, predicted: Any = None, hint: str = ""
    ) -> None: ...


def _needed(judgement: Judgement) -> str:
    """How many requests, at the observed rate, would settle a rate check that straddles."""
    observed, interval = judgement.observed, judgement.interval
    if judgement.unit != "rate" or observed is None or interval is None:
        return ""
    relation, limit, tolerance = judgement.relation, judgement.threshold, judgement.tolerance
    decision_method: IntervalMethod = "wilson" if interval.method == "wilson" else "clopper-pearson"
    if relation not in ("≥", "≤") and not (relation == "matches" and tolerance is not None):
        return ""

    def decided(n: int) -> bool:
        # The interval the decision is made on (Clopper–Pearson), not a display one.
        bounds = proportion_interval(
            round(observed * n), n, interval.confidence, method=decision_method
        )
        if relation == "≥":
            return bounds.low >= limit or bounds.high < limit
        if relation == "≤":
            return bounds.high <= limit or bounds.low > limit
        # An equivalence check: wholly inside the band, or wholly outside it.
        assert tolerance is not None
        low, high = limit - tolerance, limit + tolerance
        inside = low <= bounds.low and bounds.high <= high
        return inside or bounds.high < low or bounds.low > high

    n = max(judgement.n, 1)
    if not any(decided(n * 2**k) for k in range(1, 12)):
        return "the observed rate sits on the limit; no window length would decide it"
    low, high = n, n * 2
    while not decided(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if decided(middle) else (middle, high)
    return (
        f"about {high} requests at this rate would decide it (this window had {judgement.n}); "
        "lengthen the load window or raise the rate"
    )


def settle(
    judgement: Judgement, sink: JudgementSink | None, window: str, predicted: Any = None
) -> Judgement:
    """Record ``judgement`` (with the hint an inconclusive one carries), then raise unless
    it passed."""
    why = f" [{window}]" if window else ""
    if predicted is not None and str(getattr(predicted, "why", "")):
        value = getattr(predicted, "value", None)
        shown = ""
        if isinstance(value, int | float):
            shown = {"seconds": f"{value:g}s ", "rate": f"{value:.1%} "}.get(
                judgement.unit, f"{value:g} "
            )
        why += f"; predicted from the mesh config: {shown}({predicted.why})"
    hint = ""
    if judgement.verdict is Verdict.INCONCLUSIVE:
        hint = (_needed(judgement) + why).strip("; ")
    if sink is not None:
        # The hint is the actionable half of an INCONCLUSIVE: the terminal prints it too.
        sink.add_judgement(window, judgement, predicted, hint)
    failure: Exception | None = None
    if judgement.verdict is Verdict.FAIL:
        failure = AssertionError(judgement.explain() + why)
    elif judgement.verdict is Verdict.INCONCLUSIVE:
        failure = Inconclusive(judgement, hint)
    if failure is None:
        return judgement
    # A sink that keeps going (a mutant run) takes the failure for the end of the test.
    defer = getattr(sink, "defer", None)
    if callable(defer) and defer(failure):
        return judgement
    raise failure


def precondition(
    judgement: Judgement, sink: JudgementSink | None, window: str, why: str
) -> Judgement:
    """A guard, not a check: what the experiment's checks presume (the pages answered, the
    fault acted). Met, it records nothing and counts as no PASS; not met, or too close to
    call, it makes the experiment INCONCLUSIVE, saying what was presumed. So a guard no
    weakening of the config could flip never adds a PASS the suite cannot lose."""
    if judgement.verdict is Verdict.PASS:
        return judgement
    reason = "; ".join(filter(None, [f"precondition not met: {why}", judgement.reason]))
    inconclusive = replace(judgement, verdict=Verdict.INCONCLUSIVE, reason=reason)
    return settle(inconclusive, sink, window)


_RELATIONS = {"≥": float.__ge__, "≤": float.__le__}


def exact(
    subject: str,
    observed: float | None,
    relation: str,
    threshold: float,
    n: int,
    *,
    window: str = "",
    sink: JudgementSink | None = None,
    unit: Unit = "count",
    reason: str = "",
) -> Judgement:
    """A check on counted facts, not an estimate (the most tries any logged call made, when
    the first ejection began): no interval, PASS or FAIL, recorded like the statistical
    checks so the report's evidence lists it. Nothing to count (``n == 0``) is
    inconclusive, never a pass; ``observed=None`` (the event never happened) fails."""
    if n == 0:
        verdict, reason = Verdict.INCONCLUSIVE, reason or "nothing was logged to judge"
    elif observed is None:
        verdict = Verdict.FAIL
    else:
        verdict = Verdict.PASS if _RELATIONS[relation](float(observed), threshold) else Verdict.FAIL
    judgement = Judgement(verdict, subject, relation, threshold, observed, None, n, unit, reason)
    return settle(judgement, sink, window)


def seconds(value: float | str) -> float:
    if isinstance(value, str):
        try:
            return parse_seconds(value)
        except ValueError as exc:
            raise ConfigError(f"{value!r} is not a duration such as '6.5s' or '500ms'") from exc
    return float(value)


@dataclass(frozen=True)
class RateMetric:
    """A proportion observed in a window: ``successes`` of ``trials``."""

    successes: int
    trials: int
    subject: str
    window: str = ""
    sink: JudgementSink | None = None
    confidence: float = DEFAULT_CONFIDENCE
    min_n: int = DEFAULT_MIN_N
    # A prediction from the config in force, used when a check is given none.
    expected: Any = None

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else float("nan")

    def _proportion(self) -> Proportion:
        return Proportion(self.successes, self.trials)

    def at_least(self, limit: float, *, predicted: Any = None) -> Judgement:
        j = at_least(
            self._proportion(), limit, self.confidence, subject=self.subject, min_n=self.min_n
        )
        return settle(j, self.sink, self.window, self._predicted(predicted))

    def at_most(self, limit: float, *, predicted: Any = None) -> Judgement:
        j = at_most(
            self._proportion(), limit, self.confidence, subject=self.subject, min_n=self.min_n
        )
        return settle(j, self.sink, self.window, self._predicted(predicted))

    def precondition_at_least(self, limit: float, why: str) -> Judgement:
        """What the checks after it presume (``why``), not a check: see :func:`precondition`."""
        j = at_least(
            self._proportion(), limit, self.confidence, subject=self.subject, min_n=self.min_n
        )
        return precondition(j, self.sink, self.window, why)

    def matches(
        self,
        expected: float,
        tolerance: float | None = None,
        *,
        confidence: float | None = None,
        predicted: Any = None,
    ) -> Judgement:
        """The share is ``expected ± tolerance`` (an equivalence check: PASS only when the
        whole interval lies inside the band). Without a tolerance there is no band, so the
        check can FAIL (the interval excludes ``expected``) but never PASS: it is
        INCONCLUSIVE, saying to give one."""
        j = proportion_matches(
            self.successes,
            self.trials,
            expected,
            confidence if confidence is not None else self.confidence,
            tolerance=tolerance,
            subject=self.subject,
            min_n=self.min_n,
        )
        return settle(j, self.sink, self.window, self._predicted(predicted))

    def _predicted(self, given: Any) -> Any:
        return given if given is not None else self.expected

    def dropped_at_most(self, baseline: RateMetric, max_drop: float) -> Judgement:
        """This rate fell by at most ``max_drop`` (0.02 = 2 points) from the same rate in a
        ``baseline`` window (Newcombe's interval for the difference): the steady state held."""
        return self._change_from(baseline, max_drop, "drop")

    def rose_at_most(self, baseline: RateMetric, max_rise: float) -> Judgement:
        """This rate (of something bad: error pages, 503s) rose by at most ``max_rise``
        from the same rate in a ``baseline`` window."""
        return self._change_from(baseline, max_rise, "rise")

    def _change_from(self, baseline: RateMetric, limit: float, way: str) -> Judgement:
        # A rise is a drop from this window to the baseline; n is this window's either way.
        before, after = (baseline, self) if way == "drop" else (self, baseline)
        j = rate_drop_at_most(
            before._proportion(),
            after._proportion(),
            limit,
            self.confidence,
            subject=f"{way} in {self.subject} from {baseline.window or 'baseline'}",
            min_n=self.min_n,
        )
        j = replace(j, n=self.trials, baseline_n=baseline.trials)
        return settle(j, self.sink, self.window)

    def __repr__(self) -> str:
        return f"<{self.subject} {self.successes}/{self.trials} in {self.window or 'window'}>"


@dataclass(frozen=True)
class LatencyMetric:
    """The ``q`` quantile of a window's latencies (seconds)."""

    values: Sequence[float]
    q: float
    window: str = ""
    sink: JudgementSink | None = None
    confidence: float = DEFAULT_CONFIDENCE
    min_n: int = DEFAULT_MIN_N
    subject: str | None = None

    def _decide(self, check: Any, limit: float | str) -> Judgement:
        return check(  # type: ignore[no-any-return]
            self.values,
            self.q,
            seconds(limit),
            self.confidence,
            subject=self.subject,
            min_n=self.min_n,
        )

    def _judge(self, check: Any, limit: float | str, predicted: Any) -> Judgement:
        return settle(self._decide(check, limit), self.sink, self.window, predicted)

    def at_most(self, limit: float | str, *, predicted: Any = None) -> Judgement:
        return self._judge(quantile_at_most, limit, predicted)

    def at_least(self, limit: float | str, *, predicted: Any = None) -> Judgement:
        return self._judge(quantile_at_least, limit, predicted)

    def precondition_at_least(self, limit: float | str, why: str) -> Judgement:
        """What the checks presume (``why``), not a check: see :func:`precondition`."""
        return precondition(self._decide(quantile_at_least, limit), self.sink, self.window, why)

    def between(
        self, low: float | str, high: float | str, *, predicted: Any = None
    ) -> tuple[Judgement, Judgement]:
        return self.at_least(low, predicted=predicted), self.at_most(high, predicted=predicted)

    def at_most_times(self, baseline: LatencyMetric, ratio: float) -> Judgement:
        """At most ``ratio`` × the same quantile of ``baseline`` (seeded bootstrap)."""
        j = quantile_ratio_at_most(
            self.values, baseline.values, self.q, ratio, self.confidence, min_n=self.min_n
        )
        return settle(j, self.sink, f"{self.window} vs {baseline.window}")
