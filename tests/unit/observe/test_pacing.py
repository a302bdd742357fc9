"""Throughput against the offered rate: start-up and drain are not idle load."""

from __future__ import annotations

from chaoskit.load import LoadProfile, RequestRecord
from chaoskit.observe import Window

OPEN = LoadProfile.build("http://127.0.0.1:9", duration="10s", rate=50.0)


def record(t: float) -> RequestRecord:
    return RequestRecord(t, t, 0.01, 200, 10, "", "v1", 0, f"id-{t}", None, None)


def test_a_run_that_kept_its_rate_reads_as_the_offered_rate() -> None:
    """50 rps for the 10 s schedule, in a window that also holds 4 s of worker start-up
    and 2 s of drain: the whole-window throughput is 500/16 = 31.25 rps, the schedule's
    50 rps."""
    start = 1000.0
    records = [record(start + 4 + i / 50) for i in range(500)]
    window = Window("w", records, OPEN, start, start + 16.0)
    summary = window.summary()
    assert summary["throughput_rps"] == 500 / 16
    assert summary["achieved_rps"] == 50.0
    assert summary["scheduled_s"] == 10.0
    assert summary["startup_s"] == 4.0
    assert summary["drain_s"] == 2.0


def test_requests_the_schedule_did_not_get_through_lower_the_achieved_rate() -> None:
    start = 1000.0
    records = [record(start + 1 + i / 50) for i in range(250)]
    records += [
        RequestRecord(
            start + 6 + i / 50,
            start + 6 + i / 50,
            30.0,
            0,
            0,
            "timeout",
            None,
            0,
            f"x{i}",
            None,
            None,
        )
        for i in range(250)
    ]
    summary = Window("w", records, OPEN, start, start + 12.0).summary()
    assert summary["achieved_rps"] == 25.0


def test_an_empty_window_has_no_pacing() -> None:
    summary = Window("w", [], OPEN, 1000.0, 1001.0).summary()
    assert summary["achieved_rps"] is None
