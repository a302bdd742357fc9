"""A locustfile's user classes in Locust's distributed mode, for real: one master and two
worker processes on loopback against the small loopback server. The master imports the
locustfile to deal its classes by name, weight and fixed count, as ``locust --master -f``
does; each worker records the requests of the users it was dealt."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import pytest

from chaoskit.load import LoadError, LoadProfile, run_load
from tests.unit.load.conftest import Server
from tests.unit.load.test_distributed import answered, process_of

MIX = Path(__file__).resolve().parents[2] / "data" / "locustfiles" / "mix.py"
SHOP = MIX.with_name("shop.py")


def test_two_classes_are_dealt_over_both_workers_and_the_master_counts_every_name(
    server: Server,
) -> None:
    """mix.py: Browser (weight 3) and Payer (weight 1, fixed_count 1), 4 users on 2
    workers for a second and a half."""
    server.fail_every = 5  # some GETs fail: the master's failures must match the records'
    server.login_status = 200  # the POST /pay reply: no redirect, one request per record
    profile = LoadProfile.build(
        server.url,
        duration="1.5s",
        users=4,
        processes=2,
        distributed=True,
        locustfile=str(MIX),
        user_classes=("Browser", "Payer"),
    )
    result = run_load(profile)
    records = result.records
    # Every request the server saw is recorded, once.
    assert len(records) == server.received + server.posted
    assert sum(r.method == "POST" for r in records) == server.posted > 0
    assert len({r.request_id for r in records}) == len(records)
    by_class = {c: [r for r in records if r.user_class == c] for c in ("Browser", "Payer")}
    assert {r.name for r in by_class["Browser"]} == {"items", "item"}
    assert {(r.name, r.method) for r in by_class["Payer"]} == {("pay", "POST")}
    assert len(by_class["Browser"]) + len(by_class["Payer"]) == len(records)
    # Locust's dealing: Payer's fixed count of 1 user, the other three Browsers; every
    # user runs in one worker, and no two users of a class share a number.
    users = {c: {(process_of(r), r.user) for r in by_class[c]} for c in by_class}
    assert len(users["Payer"]) == 1
    assert len(users["Browser"]) == len({user for _, user in users["Browser"]}) == 3
    assert len({process_of(r) for r in records}) == 2
    assert sorted(s["index"] for s in result.summaries) == [0, 1]
    # The master's Locust totals over every request name agree with the records.
    assert result.master is not None
    assert result.master["workers_done"] == [0, 1]
    seen = answered(records)
    assert result.master["requests"] == result.master["all_requests"] == len(seen)
    failed = [r for r in seen if r.error]
    assert result.master["failures"] == len(failed) > 0
    assert Counter(r.status for r in failed) == {503: len(failed)}


def test_a_task_that_raises_reaches_the_master_with_its_file_and_line(server: Server) -> None:
    profile = LoadProfile.build(
        server.url,
        duration="1s",
        users=2,
        processes=2,
        distributed=True,
        locustfile=str(SHOP),
        user_classes=("Careless",),
        max_requests=10,
    )
    result = run_load(profile)
    assert result.records
    assert all(r.name == "before the crash" for r in result.records)
    assert result.master is not None
    [error] = result.master["user_errors"]
    assert re.fullmatch(r'the task broke \(\d+x, File ".*/shop\.py", line \d+, in .*\)', error)


def test_a_class_the_locustfile_lacks_is_an_error_listing_its_classes(server: Server) -> None:
    profile = LoadProfile.build(
        server.url,
        duration="1s",
        users=2,
        processes=2,
        distributed=True,
        locustfile=str(MIX),
        user_classes=("Shopper",),
        connect_timeout_s=5.0,
    )
    with pytest.raises(
        LoadError, match=rf"locustfile {MIX} has no 'Shopper'; its user classes: Browser, Payer"
    ):
        run_load(profile)
    assert server.received == server.posted == 0


def test_a_locustfile_that_does_not_import_names_file_and_line_in_distributed_mode(
    server: Server, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from locust import FastHttpUser\n\nraise RuntimeError('no config')\n")
    profile = LoadProfile.build(
        server.url,
        duration="1s",
        users=2,
        processes=2,
        distributed=True,
        locustfile=str(broken),
        connect_timeout_s=5.0,
    )
    # The master and each worker import it: whichever reports first, the reason is the same.
    with pytest.raises(
        LoadError,
        match=rf"(?s)failed \(exit 6\).*locustfile {broken} does not import: "
        rf"RuntimeError: no config \(at {broken}:3\)",
    ):
        run_load(profile)
    assert server.received == 0


def test_open_model_each_worker_runs_its_share_of_the_arrivals_with_its_own_sessions(
    server: Server,
) -> None:
    """rate=40 for 1 s on 2 workers: each worker's schedule is rate / 2 (20 arrivals, one
    every 50 ms), each arrival one class drawn by weight (Browser 3 : Payer 1), and each
    worker is dealt one session of each class, the ones its schedule asked the master for."""
    server.login_status = 200  # the POST /pay reply: no redirect, one request per record
    profile = LoadProfile.build(
        server.url,
        duration="1s",
        model="open",
        rate=40.0,
        users=2,
        processes=2,
        distributed=True,
        locustfile=str(MIX),
        seed=5,
    )
    result = run_load(profile)
    records = result.records
    assert len(records) == server.received + server.posted == 40
    by_process = Counter(process_of(r) for r in records)
    assert sorted(by_process.values()) == [20, 20]
    for pid in by_process:
        mine = sorted(r.intended for r in records if process_of(r) == pid)
        assert all(abs(b - a - 0.05) < 0.002 for a, b in itertools.pairwise(mine))
    # Each worker ran both classes' arrivals (20 draws at 3:1 each, seeded), each class on
    # the one session the worker was dealt; the two workers' sessions are numbered apart.
    for name in ("Browser", "Payer"):
        sessions = {(process_of(r), r.user) for r in records if r.user_class == name}
        assert len({pid for pid, _ in sessions}) == len({user for _, user in sessions}) == 2
    assert all(r.latency_s >= r.sent - r.intended for r in records)
    assert result.master is not None
    assert result.master["requests"] == len(answered(records)) == 40
    assert result.master["failures"] == sum(1 for r in records if r.error) == 0


def test_classes_that_would_start_no_user_are_an_error_naming_them(
    server: Server, tmp_path: Path
) -> None:
    idle = tmp_path / "idle.py"
    idle.write_text(
        "from locust import FastHttpUser, task\n\n"
        "class Idle(FastHttpUser):\n    weight = 0\n\n    @task\n"
        "    def home(self):\n        self.client.get('/')\n"
    )
    profile = LoadProfile.build(
        server.url,
        duration="1s",
        users=2,
        processes=2,
        distributed=True,
        locustfile=str(idle),
        connect_timeout_s=5.0,
    )
    with pytest.raises(
        LoadError,
        match=rf"locustfile {idle}: user classes Idle all have weight 0 and no fixed_count",
    ):
        run_load(profile)
