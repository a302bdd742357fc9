"""Fault labels on the charts: faults applied together get a row each."""

from __future__ import annotations

import copy
from typing import Any

from chaoskit.report import render_report
from chaoskit.report.charts import band, stack_labels
from tests.unit.report.helpers import chart_data


def test_faults_applied_at_the_same_moment_get_separate_rows() -> None:
    bands = [band(2.0, 8.0, "fault: delay"), band(2.0, 8.0, "fault: abort"), band(9.0, 10.0, "x")]
    assert [b["row"] for b in stack_labels(bands, span=10.0)] == [0, 1, 0]


def test_labels_far_enough_apart_share_the_top_row() -> None:
    bands = [band(0.0, 3.0, "a"), band(5.0, 8.0, "b")]
    assert [b["row"] for b in stack_labels(bands, span=10.0)] == [0, 0]


def test_a_report_with_two_faults_applied_together_stacks_their_labels(
    latest: dict[str, Any],
) -> None:
    run = copy.deepcopy(latest)
    experiment = run["experiments"][0]
    twin = copy.deepcopy(experiment["faults"][0])
    twin["kind"] = "abort"
    experiment["faults"].append(twin)
    first = chart_data(render_report(run))["chart-1"]
    assert [(b["label"], b["row"]) for b in first["bands"]] == [
        ("fault: delay", 0),
        ("fault: abort", 1),
    ]
