"""Did the latest run get worse than the earlier ones? Tests on the numbers a results file has.

Results files keep, per window, exact counts (``ok`` of ``n``) and exact quantiles, plus a
per-second series with each second's p99; they do not keep the raw latencies. So:

- **Success rate**: latest ``ok/n`` against the earlier runs pooled (their ``ok`` and ``n``
  summed), with Newcombe's hybrid score interval for the difference. A regression is
  flagged when the whole interval is below zero.
- **p99**: the point estimate is the latest window's exact p99 over the median of the
  earlier runs' exact p99s. A window p99 has no interval without raw latencies, so the
  evidence is the per-second p99s instead: a percentile bootstrap of the ratio of their
  medians (latest over pooled earlier seconds, :func:`chaoskit.stats.quantile_ratio_interval`).
  Seconds of one run are not independent (a slow backend stays slow), which makes that
  interval too narrow, so the rule is conservative: flag only when the window p99 rose by
  at least :data:`P99_MIN_RISE`, exceeds every earlier run's p99, and the per-second
  interval lies wholly above 1. With fewer than :data:`MIN_SECONDS` seconds on a side
  there is no interval, and nothing is flagged.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from chaoskit.report import fmt
from chaoskit.stats import Interval, Proportion, newcombe_difference, quantile_ratio_interval

CONFIDENCE = 0.95
P99_MIN_RISE = 1.2
MIN_SECONDS = 10

Change = Literal["regression", "improvement", "no change", "not tested"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One comparison of the latest run with the earlier ones, with its message."""

    experiment: str
    window: str
    metric: Literal["success rate", "p99"]
    change: Change
    message: str
    interval: Interval | None = None


def _windows(run: Mapping[str, Any], experiment_id: str) -> dict[str, Mapping[str, Any]]:
    for e in run["experiments"]:
        if e["id"] == experiment_id:
            return {str(w["label"]): w for w in e["windows"]}
    return {}


def compare_success(
    latest: Proportion, earlier: Proportion, label: str, confidence: float = CONFIDENCE
) -> tuple[Change, str, Interval]:
    """Newcombe's interval for ``latest - earlier`` and what it says, in one sentence."""
    interval = newcombe_difference(latest, earlier, confidence)
    d = latest.rate - earlier.rate
    ci = (
        f"{fmt.points(d)}, {confidence:.0%} CI {fmt.points(interval.low)} to "
        f"{fmt.points(interval.high)}; {latest.successes}/{latest.trials} now, "
        f"{earlier.successes}/{earlier.trials} before"
    )
    was, now = fmt.pct(earlier.rate), fmt.pct(latest.rate)
    if interval.high < 0:
        return "regression", f"success rate {label} fell from {was} to {now} ({ci})", interval
    if interval.low > 0:
        return "improvement", f"success rate {label} rose from {was} to {now} ({ci})", interval
    return (
        "no change",
        f"success rate {label}: {was} before, {now} now, no clear change ({ci})",
        interval,
    )


def compare_p99(
    latest_p99: float,
    earlier_p99s: Sequence[float],
    latest_seconds: Sequence[float],
    earlier_seconds: Sequence[float],
    label: str,
    *,
    seed: str = "",
    confidence: float = CONFIDENCE,
) -> tuple[Change, str, Interval | None]:
    """The conservative p99 rule of the module docstring, and its sentence."""
    reference = statistics.median(earlier_p99s)
    ratio = latest_p99 / reference if reference > 0 else float("inf")
    head = (
        f"p99 {label} {'rose' if ratio >= 1 else 'fell'} {fmt.signed_pct(ratio)[1:]} "
        f"({fmt.latency(reference)} → {fmt.latency(latest_p99)})"
    )
    a = [v for v in latest_seconds if v > 0]
    b = [v for v in earlier_seconds if v > 0]
    if len(a) < MIN_SECONDS or len(b) < MIN_SECONDS:
        return (
            "not tested",
            f"{head}; too few per-second p99s for an interval ({len(a)} now, {len(b)} before; "
            f"{MIN_SECONDS} needed on each side), so not flagged",
            None,
        )
    interval = quantile_ratio_interval(a, b, 0.5, confidence, seed=seed)
    ci = (
        f"per-second p99s {fmt.signed_pct(statistics.median(a) / statistics.median(b))}, "
        f"{confidence:.0%} CI {fmt.signed_pct(interval.low)} to {fmt.signed_pct(interval.high)}"
    )
    if ratio >= P99_MIN_RISE and latest_p99 > max(earlier_p99s) and interval.low > 1.0:
        return "regression", f"{head}; {ci}", interval
    if ratio <= 1 / P99_MIN_RISE and latest_p99 < min(earlier_p99s) and interval.high < 1.0:
        return "improvement", f"{head}; {ci}", interval
    return "no change", f"{head}; {ci}: below the bar for a flag", interval


def find_changes(runs: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Every comparison of the last of ``runs`` (oldest first) with the ones before it."""
    if len(runs) < 2:
        return []
    latest, earlier = runs[-1], runs[:-1]
    findings: list[Finding] = []
    for experiment in latest["experiments"]:
        eid = str(experiment["id"])
        before = [_windows(run, eid) for run in earlier]
        for window in experiment["windows"]:
            label = str(window["label"])
            olds = [w[label] for w in before if label in w and w[label]["summary"]["n"] > 0]
            s = window["summary"]
            if not olds or s["n"] == 0:
                continue
            now = Proportion(min(int(s["ok"]), int(s["n"])), int(s["n"]))
            then = Proportion(
                sum(min(int(o["summary"]["ok"]), int(o["summary"]["n"])) for o in olds),
                sum(int(o["summary"]["n"]) for o in olds),
            )
            change, message, interval = compare_success(now, then, label)
            findings.append(Finding(eid, label, "success rate", change, message, interval))
            p99 = s["latency_s"]["p99"]
            old_p99s = [
                float(o["summary"]["latency_s"]["p99"])
                for o in olds
                if o["summary"]["latency_s"]["p99"] is not None
            ]
            if p99 is None or not old_p99s:
                continue
            change, message, maybe = compare_p99(
                float(p99),
                old_p99s,
                [float(p["p99"]) for p in window["series"] if p["p99"] is not None and p["n"]],
                [
                    float(p["p99"])
                    for o in olds
                    for p in o["series"]
                    if p["p99"] is not None and p["n"]
                ],
                label,
                seed=f"{eid}|{label}",
            )
            findings.append(Finding(eid, label, "p99", change, message, maybe))
    return findings
