"""The Locust master of ``distributed=True`` (``python -m chaoskit.load.master SPEC OUT PORT N``).

It sends no request itself. It listens on 127.0.0.1:PORT, waits for its N workers
(``chaoskit.load.worker --master``), has Locust dispatch the users between them, ends the
window, waits for every worker's final stats and ``DONE_MESSAGE``, and writes Locust's
aggregated totals to OUT (one JSON object) for the parent to check against the records.
Like the worker, it imports Locust before anything else.

With a locustfile it imports the file too, as ``locust --master -f`` does: Locust's
dispatcher deals users by class name, ``weight`` and ``fixed_count``
(locust/dispatch.py, ``UsersDispatcher._user_gen``), so the master declares a stand-in
of each of the workers' classes with those three, and runs none of their code.
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401 - first: it monkey-patches ssl, socket and time
# isort: on

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import User, constant
from locust.env import Environment
from locust.event import Events

from chaoskit.load.locust_csv import CsvExport
from chaoskit.load.locustfile import (
    LocustfileError,
    check_some_class_starts,
    load_user_classes,
)
from chaoskit.load.planned_dispatch import planned_dispatcher
from chaoskit.load.profile import LoadProfile
from chaoskit.load.worker import (
    BAD_LOCUSTFILE,
    DONE_MESSAGE,
    HELLO_MESSAGE,
    SLOT_MESSAGE,
    USER_CLASS_NAME,
    stop_grace,
    user_errors,
)

HOST = "127.0.0.1"  # loopback only: the workers are this machine's child processes
# Workers also need to start (import Locust) before they connect; and the master waits a
# little longer than a worker, so a worker that cannot connect is the one that says so.
START_GRACE_S = 3.0
MISSING_WORKERS = 2  # exit codes
WORKERS_NOT_DONE = 5


def say(text: str) -> None:
    sys.stderr.write(f"Locust master: {text}\n")
    sys.stderr.flush()


def stand_in(name: str, weight: int = 1, fixed_count: int = 0) -> type[User]:
    """A class named like one of the workers': the master only needs its name, weight and
    fixed count to deal users."""

    def never(user: User) -> None:  # the master spawns no users
        raise AssertionError("the Locust master runs no users")

    attributes = {
        "wait_time": constant(1),
        "tasks": [never],
        "weight": weight,
        "fixed_count": fixed_count,
    }
    return type(name, (User,), attributes)


def dealt_classes(profile: LoadProfile) -> list[type[User]]:
    """Stand-ins for the classes the workers run: chaoskit's own, or the locustfile's
    (imported here as in the workers, so the same names and the same error if it fails)."""
    if profile.locustfile is None:
        return [stand_in(USER_CLASS_NAME)]
    classes = load_user_classes(
        Path(profile.locustfile), profile.user_classes, profile.connect_timeout_s
    )
    if profile.model == "open":
        # Each worker asks for its sessions per class (planned_dispatch): none is dropped
        # for weight 0 here, the worker itself refuses a file of weight-0 classes only.
        return [stand_in(c.__name__, fixed_count=1) for c in classes]
    check_some_class_starts(classes, Path(profile.locustfile))
    return [stand_in(c.__name__, int(c.weight), int(c.fixed_count)) for c in classes]


def run(profile: LoadProfile, out: Path, port: int, workers: int) -> int:
    try:
        user_classes = dealt_classes(profile)
    except LocustfileError as exc:
        say(str(exc))
        return BAD_LOCUSTFILE
    env = Environment(
        user_classes=user_classes,
        events=Events(),  # type: ignore[no-untyped-call]
        # Sent to the workers with the users: their grace for a request at stop.
        stop_timeout=stop_grace(profile),
    )
    runner = env.create_master_runner(master_bind_host=HOST, master_bind_port=port)
    done: dict[int, dict[str, Any]] = {}
    all_done = Event()

    def on_done(environment: Environment, msg: Any, **_: Any) -> None:
        done[int(msg.data["index"])] = dict(msg.data)
        if len(done) >= workers:
            all_done.set()

    hello: set[str] = set()
    # Open model with a locustfile: the sessions per class each worker asks for.
    asked: dict[str, dict[str, int]] = {}

    def on_hello(environment: Environment, msg: Any, **_: Any) -> None:
        hello.add(msg.node_id)
        if msg.data.get("users"):
            asked[msg.node_id] = {str(k): int(v) for k, v in msg.data["users"].items()}

    runner.register_message(DONE_MESSAGE, on_done)
    runner.register_message(HELLO_MESSAGE, on_hello)
    wait_s = profile.connect_timeout_s + START_GRACE_S
    say(f"listening on {HOST}:{port}, waiting up to {wait_s:g}s for {workers} workers")
    give_up = time.monotonic() + wait_s
    while len(hello) < workers:
        if time.monotonic() >= give_up:
            say(
                f"only {len(hello)} of {workers} Locust workers connected to the "
                f"master at {HOST}:{port} within {wait_s:g}s"
            )
            runner.quit()  # the ones that did connect quit too
            return MISSING_WORKERS
        gevent.sleep(0.05)
    # Locust deals users round-robin over its workers sorted by id (dispatch.py): each
    # worker's place in that order numbers its users as one process would.
    for slot, client_id in enumerate(sorted(hello)):
        runner.send_message(SLOT_MESSAGE, {"slot": slot}, client_id=client_id)
    # Open model: one user per login per worker (Locust deals users round-robin), each
    # worker sending at the rate share its spec file gives it.
    users = profile.users if profile.model == "closed" else workers * len(profile.logins)
    if profile.model == "open" and profile.locustfile is not None:
        env.dispatcher_class = planned_dispatcher(asked)
        users = sum(sum(counts.values()) for counts in asked.values())
    started = time.monotonic()
    runner.start(users, spawn_rate=users)
    # The master holds every worker's statistics, so it writes Locust's CSV, as `locust
    # --master --csv` does.
    export = None if profile.csv_prefix is None else CsvExport(env, profile.csv_prefix)
    if export is not None:
        export.start()
    # Closed: the window ends here. Open: each worker quits when its schedule is done.
    window = profile.duration_s
    if profile.model == "open":
        window += profile.timeout_s + 1
    all_done.wait(timeout=max(0.0, started + window - time.monotonic()))
    if not all_done.is_set():
        # Not runner.quit(): that also stops this process's listener, and the workers'
        # final stats and DONE messages would be lost.
        runner.send_message("quit")
        all_done.wait(timeout=stop_grace(profile) + 10)
    # chaoskit's own user sends to one path; a locustfile's classes name their requests.
    entry = (
        env.stats.get(profile.path, profile.method)
        if profile.locustfile is None
        else env.stats.total
    )
    csv_files = [] if export is None else export.finish()
    summary = {
        "done": True,
        "workers": workers,
        "workers_done": sorted(done),
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "all_requests": env.stats.total.num_requests,
        "errors": [f"{e.error} ({e.occurrences}x)" for e in env.stats.errors.values()][:5],
        # As a worker's summary says them: message, count, and the user's file and line.
        "user_errors": user_errors(runner)[:5],
        "csv_files": csv_files,
    }
    out.write_text(json.dumps(summary))
    runner.greenlet.kill(block=True)
    runner.server.close(linger=0)  # type: ignore[no-untyped-call]
    if len(done) < workers:
        missing = sorted(set(range(workers)) - set(done))
        say(f"workers {missing} never reported the end of their load")
        return WORKERS_NOT_DONE
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        sys.stderr.write("usage: python -m chaoskit.load.master SPEC.json OUT.json PORT WORKERS\n")
        return 2
    profile = LoadProfile.from_json(json.loads(Path(argv[0]).read_text()))
    hard_stop = (
        profile.connect_timeout_s
        + START_GRACE_S
        + profile.duration_s
        + profile.timeout_s
        + stop_grace(profile)
        + 30
    )
    # A last resort so the master can never outlive its window, whatever Locust does.
    killer: Callable[[], None] = lambda: os._exit(3)  # noqa: E731
    gevent.spawn_later(hard_stop, killer)
    return run(profile, Path(argv[1]), int(argv[2]), int(argv[3]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
