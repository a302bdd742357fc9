"""A user's own Locust user class drives the load: run for real in the worker against the
small loopback server (no mesh), recorded through Locust's ``events.request`` hook."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.errors import ConfigError
from chaoskit.load import LoadError, LoadProfile, run_load
from chaoskit.load.records import IN_FLIGHT_AT_STOP, USER_NEVER_STARTED
from tests.unit.load.conftest import Server

SHOP = Path(__file__).resolve().parents[2] / "data" / "locustfiles" / "shop.py"
SINGLE = SHOP.with_name("single.py")
MIX = SHOP.with_name("mix.py")


def _profile(
    server: Server, locustfile: Path, user: str | tuple[str, ...] | None, **rest: object
) -> LoadProfile:
    # Bounded by count (the window ends at max_requests), with time to spare on a busy machine.
    values: dict[str, object] = {"duration": "20s", "users": 2, "max_requests": 60, **rest}
    return LoadProfile.build(
        server.url,
        locustfile=str(locustfile),
        user_classes=(user,) if isinstance(user, str) else (user or ()),
        **values,  # type: ignore[arg-type]
    )


def test_the_classs_tasks_are_recorded_with_their_names_and_methods(server: Server) -> None:
    result = run_load(_profile(server, SHOP, "Shopper"))
    names = {r.name for r in result.records}
    assert names == {"browse", "checkout"}
    assert {r.method for r in result.records} == {"GET"}
    # Bounded by count: the window ends at max_requests (a few may be in flight then).
    assert 60 <= len(result.records) == server.received <= 60 + 2
    assert result.finished - result.started < 20
    assert len({r.request_id for r in result.records}) == len(result.records)
    browse = [r for r in result.records if r.name == "browse"]
    assert all(r.ok and r.status == 200 and r.version == "v9" for r in browse)
    assert all(r.bytes > 0 for r in browse)


def test_catch_response_failure_marks_a_200_as_failed(server: Server) -> None:
    result = run_load(_profile(server, SHOP, "Shopper"))
    checkout = [r for r in result.records if r.name == "checkout"]
    assert checkout
    assert all(r.status == 200 and not r.ok and r.marked_failure for r in checkout)
    assert all("cart is empty" in r.error for r in checkout)


def test_an_httpuser_works_too(server: Server) -> None:
    result = run_load(_profile(server, SHOP, "SlowShopper", max_requests=20))
    assert {r.name for r in result.records} == {"browse (requests)"}
    assert all(r.ok for r in result.records)


def test_a_sequential_taskset_runs_its_steps_in_order(server: Server) -> None:
    result = run_load(_profile(server, SHOP, "Buyer", users=1, max_requests=10))
    names = [r.name for r in sorted(result.records, key=lambda r: r.sent)]
    assert names[:4] == ["flow: cart", "flow: pay", "flow: cart", "flow: pay"]
    assert {r.method for r in result.records} == {"GET", "POST"}


def test_the_only_class_is_picked_when_none_is_named(server: Server) -> None:
    result = run_load(_profile(server, SINGLE, None, max_requests=10))
    assert {r.name for r in result.records} == {"index"}


def test_a_task_that_raises_keeps_its_requests_and_says_where(server: Server) -> None:
    result = run_load(_profile(server, SHOP, "Careless", max_requests=10))
    assert result.records
    assert all(r.name == "before the crash" for r in result.records)
    [errors] = [s["user_errors"] for s in result.summaries]
    assert errors
    assert "the task broke" in errors[0]
    assert "shop.py" in errors[0]


def test_without_a_name_every_class_of_the_file_runs_as_under_locust_f(server: Server) -> None:
    result = run_load(_profile(server, SHOP, None, users=4, max_requests=80))
    # Four classes of weight 1 and four users: Locust gives each class one user.
    assert {r.user_class for r in result.records} == {"Buyer", "Careless", "Shopper", "SlowShopper"}


def test_several_classes_share_a_closed_window_each_recorded_with_its_name(
    server: Server,
) -> None:
    result = run_load(_profile(server, MIX, ("Browser", "Payer"), users=4, max_requests=80))
    by_class = {c: [r for r in result.records if r.user_class == c] for c in ("Browser", "Payer")}
    assert {r.name for r in by_class["Browser"]} == {"items", "item"}
    assert {r.name for r in by_class["Payer"]} == {"pay"}
    # Payer's fixed_count = 1: one Payer user, the other three are Browsers (Locust's rule).
    assert {r.user for r in by_class["Payer"]} == {0}
    assert {r.user for r in by_class["Browser"]} == {0, 1, 2}


def test_a_name_that_is_not_a_user_class_is_an_error(server: Server) -> None:
    with pytest.raises(LoadError, match=r"'NOT_A_USER' is not a Locust User class"):
        run_load(_profile(server, SHOP, "NOT_A_USER"))


def test_a_locustfile_that_does_not_import_names_file_and_line(
    server: Server, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from locust import FastHttpUser\n\n\nclass Broken(FastHttpUser)\n    pass\n")
    with pytest.raises(
        LoadError, match=rf"locustfile {broken} does not import: SyntaxError.*{broken}:4"
    ):
        run_load(_profile(server, broken, "Broken"))


def test_the_profile_refuses_what_a_user_class_cannot_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        LoadProfile.build("http://127.0.0.1:1", duration="1s", locustfile=str(tmp_path / "x.py"))
    with pytest.raises(ConfigError, match="a user class logs in itself"):
        LoadProfile.build("http://127.0.0.1:1", duration="1s", locustfile=str(SHOP), login="jason")
    with pytest.raises(ConfigError, match="the open model deals its arrivals to users"):
        LoadProfile.build(
            "http://127.0.0.1:1",
            duration="1s",
            locustfile=str(SHOP),
            model="open",
            rate=10.0,
            users=0,
        )


def test_open_model_runs_one_weighted_task_per_arrival_on_schedule(server: Server) -> None:
    """rate=50 for 2 s: 100 arrivals, each one task (one request) picked by the class's
    3:1 weights, each measured from its slot start + k/rate."""
    result = run_load(
        _profile(
            server,
            SHOP,
            "Shopper",
            model="open",
            rate=50.0,
            users=2,
            max_requests=1000,
            duration="2s",
        )
    )
    assert len(result.records) == server.received == 100
    assert {r.name for r in result.records} == {"browse", "checkout"}
    intended = sorted(r.intended for r in result.records)
    drift = max(abs((t - intended[0]) - k / 50.0) for k, t in enumerate(intended))
    assert drift < 1e-3
    assert all(r.latency_s >= r.sent - r.intended for r in result.records)


def test_open_model_refuses_a_task_set_flow(server: Server) -> None:
    with pytest.raises(LoadError, match="runs the task set CheckoutFlow: a flow cannot be cut"):
        run_load(_profile(server, SHOP, "Buyer", model="open", rate=10.0, users=1))


def test_open_model_picks_the_class_by_weight_then_the_task_by_weight(server: Server) -> None:
    """rate=100 for 3 s: 300 arrivals, each one class drawn by weight (3:1), then one of
    its tasks by weight (3:1 for Browser); Payer's fixed_count gives it one session."""
    result = run_load(
        _profile(
            server,
            MIX,
            ("Browser", "Payer"),
            model="open",
            rate=100.0,
            users=4,
            max_requests=1000,
            duration="3s",
        )
    )
    assert len(result.records) == server.received == 300
    intended = sorted(r.intended for r in result.records)
    drift = max(abs((t - intended[0]) - k / 100.0) for k, t in enumerate(intended))
    assert drift < 1e-3
    browser = [r for r in result.records if r.user_class == "Browser"]
    payer = [r for r in result.records if r.user_class == "Payer"]
    assert len(browser) + len(payer) == 300
    # Binomial(300, 0.75): sd 0.025, so 0.6..0.9 is six sd either side (seeded besides).
    assert 0.6 < len(browser) / 300 < 0.9
    items = sum(r.name == "items" for r in browser)
    assert 0.55 < items / len(browser) < 0.95
    assert {r.user for r in payer} == {0}
    assert {r.user for r in browser} == {0, 1, 2}


def test_open_model_with_a_class_of_weight_zero_only_is_an_error(
    server: Server, tmp_path: Path
) -> None:
    idle = tmp_path / "idle.py"
    idle.write_text(
        "from locust import FastHttpUser, task\n\n"
        "class Idle(FastHttpUser):\n    weight = 0\n\n    @task\n"
        "    def home(self):\n        self.client.get('/')\n"
    )
    with pytest.raises(LoadError, match="all have weight 0"):
        run_load(_profile(server, idle, "Idle", model="open", rate=10.0, users=1))


def test_a_request_in_flight_at_the_end_keeps_its_name_and_class(server: Server) -> None:
    """The reply takes 3 s; the window is 1 s with 1 s of grace: Locust kills the request
    and never reports it, and chaoskit records it as a failure under its task's name."""
    server.delay_s = 3.0
    result = run_load(
        _profile(server, SINGLE, "Only", users=1, duration="1s", timeout="1s", max_requests=5)
    )
    [record] = result.records
    assert record.error == IN_FLIGHT_AT_STOP
    assert (record.name, record.method, record.user_class) == ("index", "GET", "Only")


def test_open_model_a_user_whose_on_start_raises_fails_its_slots(
    server: Server, tmp_path: Path
) -> None:
    """The first of two users cannot log in: its half of the schedule is recorded as
    failed at its slots (the window keeps every arrival), the other half is sent, and the
    error is in the worker's summary."""
    moody = tmp_path / "moody.py"
    moody.write_text(
        "from locust import FastHttpUser, task\n\n"
        "class Moody(FastHttpUser):\n"
        "    started = 0\n\n"
        "    def on_start(self):\n"
        "        Moody.started += 1\n"
        "        if Moody.started == 1:\n"
        "            raise RuntimeError('login refused')\n\n"
        "    @task\n"
        "    def home(self):\n"
        "        self.client.get('/', name='home')\n"
    )
    result = run_load(
        _profile(server, moody, "Moody", model="open", rate=20.0, users=2, duration="1s")
    )
    assert len(result.records) == 20
    failed = [r for r in result.records if r.error.startswith(USER_NEVER_STARTED)]
    assert len(failed) == 10
    assert all("login refused" in r.error and not r.ok for r in failed)
    assert all(0 <= r.latency_s < 0.5 for r in failed)
    assert sum(r.name == "home" and r.ok for r in result.records) == 10
    [errors] = [s["user_errors"] for s in result.summaries]
    assert "login refused" in errors[0]


def test_a_locustfile_whose_import_never_ends_is_an_error_not_a_hang(
    server: Server, tmp_path: Path
) -> None:
    stuck = tmp_path / "stuck.py"
    stuck.write_text("import time\n\nwhile True:\n    time.sleep(0.01)\n")
    with pytest.raises(
        LoadError, match=rf"locustfile {stuck} did not finish importing within 1s \(at {stuck}:4"
    ):
        run_load(_profile(server, stuck, None, connect_timeout_s=1.0))
