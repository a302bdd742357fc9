"""Locust's distributed mode, for real: one master and two worker processes on loopback
against a small loopback server. Each test runs for a second or two of load plus the
processes' start-up."""

from __future__ import annotations

import functools
import itertools
import socket
from collections import Counter

import pytest

from chaoskit.load import LoadError, LoadProfile, RequestRecord, run_load, runner
from chaoskit.load.records import IN_FLIGHT_AT_STOP
from tests.unit.load.conftest import Server


def process_of(record: RequestRecord) -> str:
    return record.request_id.split("-")[1]  # "ck-{pid}-{n}"


def answered(records: list[RequestRecord]) -> list[RequestRecord]:
    """The requests Locust saw: it never hears of one not sent or killed at stop."""
    return [
        r for r in records if r.error != IN_FLIGHT_AT_STOP and not r.error.startswith("not sent")
    ]


def test_closed_loop_users_are_dealt_to_both_workers_and_the_master_agrees(
    server: Server,
) -> None:
    server.fail_every = 5
    profile = LoadProfile.build(
        server.url,
        path="/x",
        duration="1s",
        users=4,
        logins=["jason", None],
        processes=2,
        distributed=True,
        seed=7,
    )
    result = run_load(profile)
    records = result.records
    assert len(records) == server.received > 0
    assert records == sorted(records, key=lambda r: r.intended)
    assert len({process_of(r) for r in records}) == 2
    assert sorted(s["index"] for s in result.summaries) == [0, 1]
    # Numbered and logged in as one process would have: 0, 1, 2, 3 round-robin.
    assert {(r.user, r.login) for r in records} == {
        (0, "jason"),
        (1, None),
        (2, "jason"),
        (3, None),
    }
    assert result.master is not None
    assert result.master["workers_done"] == [0, 1]
    seen = answered(records)
    assert result.master["requests"] == len(seen)
    assert result.master["failures"] == sum(1 for r in seen if r.error) > 0
    assert all(r.status == 503 for r in seen if r.error)


def test_open_loop_each_worker_sends_its_share_of_the_rate(server: Server) -> None:
    profile = LoadProfile.build(
        server.url,
        path="/x",
        duration="1s",
        model="open",
        rate=50.0,
        processes=2,
        distributed=True,
        seed=3,
    )
    result = run_load(profile)
    records = result.records
    assert len(records) == 50
    by_process = Counter(process_of(r) for r in records)
    assert sorted(by_process.values()) == [25, 25]
    for pid in by_process:
        mine = [r.intended for r in records if process_of(r) == pid]
        # Each worker's schedule is rate / 2: one slot every 40 ms (planned, not measured).
        assert all(abs(b - a - 0.04) < 0.002 for a, b in itertools.pairwise(mine))
    assert all(r.latency_s >= r.sent - r.intended for r in records)
    assert result.master is not None
    assert result.master["requests"] == len(answered(records)) == 50
    assert result.master["failures"] == sum(1 for r in records if r.error)


def test_open_loop_with_two_logins_in_distributed_mode(server: Server) -> None:
    """Each of 2 workers gets one user per login from the master: both logins get their
    half of the rate from each worker."""
    profile = LoadProfile.build(
        server.url,
        duration="1s",
        model="open",
        rate=40.0,
        processes=2,
        distributed=True,
        logins=["jason", None],
        markers=["session=jason"],
    )
    records = run_load(profile).records
    assert len(records) == 40
    by_login = Counter((process_of(r), r.login) for r in records)
    assert sorted(by_login.values()) == [10, 10, 10, 10]
    assert all(r.has_marker(0) == (r.login == "jason") for r in records)


def test_requests_without_a_reply_are_recorded_and_are_the_masters_failures(
    server: Server,
) -> None:
    server.delay_s = 3.0
    profile = LoadProfile.build(
        server.url, duration="0.5s", users=2, timeout="1s", processes=2, distributed=True
    )
    result = run_load(profile)
    records = result.records
    # No reply ever comes: each request times out or is still in flight at the end, and
    # only the ones that timed out (Locust's failures) are in the master's count.
    assert records
    assert all(r.status == 0 and r.error for r in records)
    assert result.master is not None
    assert result.master["requests"] == result.master["failures"] == len(answered(records))


def test_a_master_that_never_sees_all_its_workers_is_a_clear_error(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        runner, "_run_distributed", functools.partial(runner._run_distributed, start_workers=1)
    )
    # Long enough for the one worker to reach a master that is still starting on a busy
    # machine; the master then waits 3 s more than that for the second.
    profile = LoadProfile.build(
        server.url, duration="1s", processes=2, distributed=True, connect_timeout_s=5.0
    )
    with pytest.raises(
        LoadError,
        match=r"(?s)Locust master failed \(exit 2\).*only 1 of 2 Locust workers connected "
        r"to the master at 127\.0\.0\.1:\d+ within 8s",
    ):
        run_load(profile)
    assert server.received == 0


def test_a_worker_that_cannot_reach_its_master_is_a_clear_error(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = probe.getsockname()[1]
    monkeypatch.setattr(
        runner,
        "_run_distributed",
        functools.partial(runner._run_distributed, worker_port=nowhere),
    )
    profile = LoadProfile.build(
        server.url, duration="1s", processes=2, distributed=True, connect_timeout_s=1.0
    )
    with pytest.raises(
        LoadError,
        match=rf"(?s)load worker \d failed \(exit 4\).*could not connect to the Locust "
        rf"master at 127\.0\.0\.1:{nowhere} within 1s",
    ):
        run_load(profile)


def test_a_target_that_never_answers_is_a_clear_error_in_distributed_mode() -> None:
    profile = LoadProfile.build(
        "http://127.0.0.1:9", duration="0.5s", timeout="1s", processes=2, distributed=True
    )
    with pytest.raises(
        LoadError, match=r"no request got an HTTP reply from http://127\.0\.0\.1:9/"
    ):
        run_load(profile)


def test_a_failing_login_reaches_the_master_and_is_reported(server: Server) -> None:
    server.login_status = 403
    profile = LoadProfile.build(
        server.url, duration="0.5s", users=2, login="jason", processes=2, distributed=True
    )
    with pytest.raises(LoadError, match="login as 'jason' failed: 403"):
        run_load(profile)
