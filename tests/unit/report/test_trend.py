"""Regression checks between the latest run and the earlier ones, on constructed runs."""

from __future__ import annotations

import copy
from typing import Any

from chaoskit.report import render_history
from chaoskit.report.trend import compare_p99, compare_success, find_changes
from chaoskit.stats import Proportion

FAILING = "experiments/test_outlier_detection.py::test_failing_replica_is_ejected[reviews-v3]"


def later(run: dict[str, Any], days: float = 1.0) -> dict[str, Any]:
    """A copy of ``run`` that started ``days`` later, under another id."""
    out = copy.deepcopy(run)
    out["run"]["started"] += days * 86400
    out["run"]["id"] += "-later"
    return out


def window(run: dict[str, Any], experiment_id: str, label: str) -> dict[str, Any]:
    [exp] = [e for e in run["experiments"] if e["id"] == experiment_id]
    [w] = [w for w in exp["windows"] if w["label"] == label]
    return w


def flagged(runs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (f.experiment, f.window, f.metric) for f in find_changes(runs) if f.change == "regression"
    ]


def test_identical_run_is_not_flagged(older: dict[str, Any]) -> None:
    changes = find_changes([older, later(older)])
    assert changes  # every window was compared...
    assert {f.change for f in changes} <= {"no change", "not tested"}  # ...and none moved


def test_clearly_worse_success_rate_is_flagged(older: dict[str, Any]) -> None:
    worse = later(older)
    summary = window(worse, FAILING, "during fault")["summary"]
    summary["ok"] = int(summary["n"] * 0.9)
    assert flagged([older, worse]) == [(FAILING, "during fault", "success rate")]
    [finding] = [f for f in find_changes([older, worse]) if f.change == "regression"]
    assert finding.message.startswith("success rate during fault fell from 99.7% to 90")
    assert "95% CI −" in finding.message
    assert finding.interval is not None
    assert finding.interval.high < 0


def test_fixture_history_flags_the_failing_experiment(
    older: dict[str, Any], latest: dict[str, Any]
) -> None:
    assert flagged([older, latest]) == [
        (FAILING, "during fault", "success rate"),
        (FAILING, "during fault", "p99"),
    ]


def test_better_success_rate_is_an_improvement_not_a_regression(latest: dict[str, Any]) -> None:
    better = later(latest)
    summary = window(better, FAILING, "during fault")["summary"]
    summary["ok"] = summary["n"]
    changes = {
        (f.window, f.metric): f.change
        for f in find_changes([latest, better])
        if f.experiment == FAILING
    }
    assert changes[("during fault", "success rate")] == "improvement"


def test_p99_rise_is_flagged_with_an_interval(older: dict[str, Any]) -> None:
    slower = later(older)
    w = window(slower, FAILING, "during fault")
    w["summary"]["latency_s"]["p99"] *= 1.5
    for point in w["series"]:
        point["p99"] *= 1.5
    [finding] = [f for f in find_changes([older, slower]) if f.change == "regression"]
    assert finding.metric == "p99"
    assert finding.message.startswith("p99 during fault rose 50%")
    assert "per-second p99s +50%, 95% CI +" in finding.message
    assert finding.interval is not None
    assert finding.interval.low > 1


def test_p99_rise_without_enough_seconds_is_not_flagged(older: dict[str, Any]) -> None:
    slower = later(older)
    w = window(slower, FAILING, "during fault")
    w["summary"]["latency_s"]["p99"] *= 3
    w["series"] = [dict(p, p99=p["p99"] * 3) for p in w["series"][:5]]
    [finding] = [
        f
        for f in find_changes([older, slower])
        if f.metric == "p99" and f.experiment == FAILING and f.window == "during fault"
    ]
    assert finding.change == "not tested"
    assert "too few per-second p99s" in finding.message


def test_small_p99_rise_is_below_the_bar() -> None:
    seconds = [0.1 + i / 1000 for i in range(30)]
    change, message, interval = compare_p99(0.11, [0.1], [s * 1.1 for s in seconds], seconds, "x")
    assert change == "no change"
    assert "below the bar" in message
    assert interval is not None


def test_compare_success_wording() -> None:
    change, message, interval = compare_success(
        Proportion(900, 1000), Proportion(990, 1000), "under fault"
    )
    assert change == "regression"
    assert message.startswith(
        "success rate under fault fell from 99.0% to 90.0% (−9.0 points, 95% CI −"
    )
    assert interval.method == "newcombe hybrid score"
    change, _, _ = compare_success(Proportion(99, 100), Proportion(990, 1000), "x")
    assert change == "no change"


def test_one_run_has_nothing_to_compare(latest: dict[str, Any]) -> None:
    assert find_changes([latest]) == []
    assert "Only one run: nothing to compare." in render_history([latest])


def test_history_page(older: dict[str, Any], latest: dict[str, Any]) -> None:
    page = render_history([latest, older])  # any order; sorted by start
    assert page.index(older["run"]["id"]) < page.index(latest["run"]["id"])
    assert "2 significant regressions" in page
    assert "Newcombe" in page
    assert "bootstrap" in page
    grid = page[page.index("Verdict of each experiment") :]
    assert grid.index("✔</span> held") < grid.index("✘</span> failed")
