"""The Locust worker, for real, against a small loopback server (no mesh).

Each test runs ``run_load`` (a child process with Locust in it) for about a second.
"""

from __future__ import annotations

import itertools

import pytest

from chaoskit.load import LoadError, LoadProfile, run_load
from tests.unit.load.conftest import Server


def test_closed_loop_records_every_request(server: Server) -> None:
    # Bounded by count, with time to spare on a busy machine: what is sent must be recorded.
    result = run_load(
        LoadProfile.build(
            server.url,
            path="/x",
            duration="3s",
            users=2,
            markers=["hello", "absent"],
            max_requests=40,
        )
    )
    assert len(result.records) == server.received
    assert server.received >= 2
    record = result.records[0]
    assert (record.status, record.version, record.pod) == (200, "v9", "pod-a")
    assert record.has_marker(0)
    assert not record.has_marker(1)
    assert {r.user for r in result.records} == {0, 1}


def test_login_keeps_the_session_cookie(server: Server) -> None:
    # A window long enough for a slow start on a busy machine; max_requests bounds the work.
    profile = LoadProfile.build(
        server.url, duration="3s", login="jason", markers=["session=jason"], max_requests=5
    )
    result = run_load(profile)
    assert result.records
    assert all(r.has_marker(0) and r.login == "jason" for r in result.records)


def test_open_loop_sends_on_schedule_and_measures_from_intended_time(server: Server) -> None:
    result = run_load(LoadProfile.build(server.url, duration="1s", model="open", rate=50.0))
    assert len(result.records) == 50
    gaps = [
        b.intended - a.intended for a, b in zip(result.records, result.records[1:], strict=False)
    ]
    assert all(abs(g - 0.02) < 0.002 for g in gaps)
    assert all(r.latency_s >= r.sent - r.intended for r in result.records)


def test_open_loop_opens_its_connection_without_a_request_that_waits_out_a_delay(
    server: Server,
) -> None:
    """Before the clock starts, a user opens its connection and sends nothing: a warm-up
    request waited out any delay fault (the jason window's start was held for 6.6 s) and
    reached the mesh without a record."""
    server.delay_s = 0.5
    result = run_load(LoadProfile.build(server.url, duration="1s", model="open", rate=10.0))
    assert [r.status for r in result.records] == [200] * 10
    assert server.received == 10


def test_open_loop_mixes_logins_each_with_its_own_session(server: Server) -> None:
    """logins=[jason, anonymous] at 40/s: the schedule's slots alternate between the two
    users, each logged in (or not) in its own session, and together they keep the rate."""
    profile = LoadProfile.build(
        server.url,
        duration="1s",
        model="open",
        rate=40.0,
        logins=["jason", None],
        markers=["session=jason"],
    )
    result = run_load(profile)
    assert len(result.records) == 40
    jason = [r for r in result.records if r.login == "jason"]
    anonymous = [r for r in result.records if r.login is None]
    assert (len(jason), len(anonymous)) == (20, 20)
    assert all(r.has_marker(0) for r in jason)
    assert not any(r.has_marker(0) for r in anonymous)
    intended = sorted(r.intended for r in result.records)
    gaps = [b - a for a, b in itertools.pairwise(intended)]
    assert all(abs(g - 0.025) < 0.003 for g in gaps)


def test_open_loop_shows_a_stall_that_a_closed_loop_would_hide(server: Server) -> None:
    server.delay_s = 0.3  # every reply takes 300 ms
    result = run_load(
        LoadProfile.build(server.url, duration="1s", model="open", rate=20.0, max_in_flight=2)
    )
    # Only two may be pending: the rest are recorded as not sent, never silently skipped.
    assert len(result.records) == 20
    dropped = [r for r in result.records if r.error.startswith("not sent")]
    assert dropped
    assert all(r.status == 0 for r in dropped)


def test_requests_in_flight_when_the_load_stops_are_counted(server: Server) -> None:
    server.delay_s = 3.0
    result = run_load(LoadProfile.build(server.url, duration="0.5s", users=3, timeout="1s"))
    # Each user's one request outlives the window: none may vanish from the records.
    assert len(result.records) == 3
    assert all(r.status == 0 and r.error for r in result.records)
    assert all(r.latency_s >= 0.9 for r in result.records)


def test_a_target_that_never_answers_is_a_clear_error() -> None:
    with pytest.raises(
        LoadError, match=r"no request got an HTTP reply from http://127\.0\.0\.1:9/"
    ):
        run_load(LoadProfile.build("http://127.0.0.1:9", duration="0.5s", timeout="1s"))


def test_a_failing_login_reports_the_users_error(server: Server) -> None:
    server.login_status = 403
    with pytest.raises(LoadError, match="login as 'jason' failed: 403"):
        run_load(LoadProfile.build(server.url, duration="0.5s", login="jason"))


def test_a_spare_worker_that_waited_still_runs_its_whole_window(server: Server) -> None:
    """A spare worker blocks on stdin with its event loop idle; its timers must count from
    when it got its window, not from when it started waiting (a stale loop clock ended the
    next closed-loop window at once)."""
    import time

    from chaoskit.load import runner

    run_load(LoadProfile.build(server.url, duration="0.2s", max_requests=1))
    assert runner._spare is not None  # the next single-process window will use it
    time.sleep(1.5)  # longer than the next window
    result = run_load(LoadProfile.build(server.url, duration="1s", users=1, think="50ms"))
    (summary,) = result.summaries
    # The window ends by its timer: never before its duration, however fast the machine.
    assert summary["wall_s"] >= 1.0
    assert len(result.records) > 1
