"""The Windows table shows the rate achieved over the schedule against the offered rate,
with start-up and drain apart from it."""

from __future__ import annotations

import copy
from typing import Any

from chaoskit.report import render_report


def test_the_throughput_cell_separates_the_schedule_from_start_up_and_drain(
    latest: dict[str, Any],
) -> None:
    run = copy.deepcopy(latest)
    window = run["experiments"][0]["windows"][0]
    window["load"]["rate"] = 50.0
    window["summary"].update(
        throughput_rps=31.4, achieved_rps=49.9, scheduled_s=10.0, startup_s=4.1, drain_s=2.2
    )
    page = render_report(run)
    assert "49.9 rps over 10 s<br><small>of 50 rps offered</small>" in page
    assert (
        "<small>start-up 4.1 s, drain 2.2 s</small><br><small>31.4 rps whole window</small>" in page
    )


def test_older_results_show_the_whole_window_throughput(latest: dict[str, Any]) -> None:
    window = latest["experiments"][0]["windows"][0]
    assert "achieved_rps" not in window["summary"]
    page = render_report(latest)
    assert "whole window" not in page
