"""The load worker: Locust in a child process (``python -m chaoskit.load.worker SPEC OUT``,
or ``--wait`` to read ``["SPEC", "OUT"]`` from stdin once its imports are done).

Importing Locust monkey-patches the interpreter with gevent, and crashes if ``ssl`` was
imported first (locust-and-kind.md §1.7), so this module imports it before anything else
and pytest never imports it at all. Records go to OUT as JSON lines while the load runs;
the last line is a summary object.

With ``--master HOST:PORT --index I --workers N`` it is one of N workers of a Locust master
(``chaoskit.load.master``): users arrive from the master, which also ends the window, and
the worker's last message to it (after its final stats report) is ``DONE_MESSAGE``.
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401 - first: it monkey-patches ssl, socket and time
# isort: on

import argparse
import gc
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.pool
import gevent.socket
from geventhttpclient.url import URL
from locust import FastHttpUser, constant, task
from locust.env import Environment
from locust.event import Events

from chaoskit.load.limits import TooFewOpenFiles, ensure_open_files, open_files_needed
from chaoskit.load.locust_csv import CsvExport
from chaoskit.load.locustfile import (
    Arrivals,
    LocustfileError,
    check_some_class_starts,
    deal_arrivals,
    load_user_classes,
    on_request,
    open_users,
    recorded,
)
from chaoskit.load.profile import LoadProfile
from chaoskit.load.records import IN_FLIGHT_AT_STOP, encode_row, row
from chaoskit.mesh.apps.bookinfo.version import reviews_version_from_page

FLUSH_EVERY = 250  # small writes: a big one stalls the send loop (visible as lateness)
# Locust dispatches users by class name: the master declares a class of the same name.
USER_CLASS_NAME = "ChaosUser"
# Custom messages on Locust's channel. HELLO: a worker is connected and listening for its
# SLOT (its place in the order Locust deals users in). DONE: its last message, after its
# final stats (ZeroMQ keeps the order).
HELLO_MESSAGE = "chaoskit_hello"
SLOT_MESSAGE = "chaoskit_slot"
DONE_MESSAGE = "chaoskit_done"
CANNOT_CONNECT = 4  # exit code
TOO_FEW_OPEN_FILES = 5  # exit code
BAD_LOCUSTFILE = 6  # exit code: the locustfile does not import or has no usable user class


@dataclass(frozen=True, slots=True)
class Link:
    """Where this worker's master listens, and which of its ``workers`` this one is."""

    host: str
    port: int
    index: int
    workers: int


# A request sent and not yet answered: (intended, sent, login, user, user_class, name,
# method). ``name`` is the name its task gave it (a user class's request), "" for
# chaoskit's own. A plain tuple: a NamedTuple's constructor is a Python call, measurable
# per request on a CPU-bound worker.
Pending = tuple[float, float, str | None, int, str, str, str]


class Recorder:
    """Collects records, tracks what is in flight, and writes batches to OUT."""

    def __init__(self, profile: LoadProfile, out: Path) -> None:
        self.profile = profile
        self.out = out.open("ab")
        self.pending: list[list[Any]] = []  # rows (records.row) not yet written
        self.in_flight: dict[str, Pending] = {}
        self.started = 0
        self.dropped = 0
        self.counter = 0
        # perf_counter for intervals, mapped onto the epoch once for cross-process times.
        self.epoch0 = time.time()
        self.perf0 = time.perf_counter()
        self.markers = [m.encode() for m in profile.markers]
        self.id_prefix = f"ck-{os.getpid()}-"  # getpid is a system call: once, not per id

    def epoch(self, perf: float) -> float:
        return self.epoch0 + (perf - self.perf0)

    def next_id(self) -> str:
        self.counter += 1
        return f"{self.id_prefix}{self.counter}"

    def begin(
        self,
        request_id: str,
        intended: float,
        sent: float,
        login: str | None,
        user: int,
        user_class: str = "",
        name: str = "",
        method: str = "",
    ) -> None:
        self.started += 1
        self.in_flight[request_id] = (intended, sent, login, user, user_class, name, method)

    def finish(self, request_id: str, response: Any, done: float) -> None:
        intended = self.in_flight[request_id][0]
        status = int(getattr(response, "status_code", 0) or 0)
        body, status, error = self._body(response, status, getattr(response, "error", None))
        self._reply(request_id, response, status, body, error, latency_s=done - intended)

    def finish_event(self, request_id: str, event: dict[str, Any]) -> None:
        """A user class's request, from Locust's ``events.request``: Locust's name, method,
        response time and length, and its verdict (an exception marks a failure, as in
        Locust's statistics: ``catch_response`` failures and ``raise_for_status`` ones).

        Runs once per request of a CPU-bound worker, so it is written flat: the recording's
        whole cost is budgeted at a tenth of plain Locust's throughput (BENCHMARKS.md)."""
        pending = self.in_flight.pop(request_id, None)
        if pending is None:
            return
        intended, sent, login, user, user_class, _, _ = pending
        response: Any = event.get("response")
        exception = event.get("exception")
        status = int(getattr(response, "status_code", 0) or 0)
        body = b""
        if status:
            try:
                body = response.content or b""
            except Exception:  # a reset mid-body: the reply is unusable
                status = 0
        version, pod, upstream = self._reply_headers(response, status, body)
        epoch = self.epoch0 - self.perf0
        self.add(
            row(
                epoch + intended,
                epoch + sent,
                (sent - intended) + float(event.get("response_time") or 0.0) / 1000.0,
                status,
                int(event.get("response_length") or len(body)),
                "" if exception is None else f"{type(exception).__name__}: {exception}"[:200],
                version,
                self._markers(body) if self.markers else 0,
                request_id,
                upstream,
                login,
                user,
                pod,
                str(event.get("name") or ""),
                str(event.get("request_type") or ""),
                exception is not None and status > 0,
                user_class,
            )
        )

    def _reply(
        self,
        request_id: str,
        response: Any,
        status: int,
        body: bytes,
        error: Any,
        *,
        latency_s: float,
        size: int | None = None,
        name: str = "",
        method: str = "",
        marked_failure: bool = False,
    ) -> None:
        """Record a request that got a reply (or a transport error); a user class's request
        also has its name, method and verdict."""
        intended, sent, login, user, user_class, _, _ = self.in_flight.pop(request_id)
        version, pod, upstream = self._reply_headers(response, status, body)
        self.add(
            row(
                self.epoch(intended),
                self.epoch(sent),
                latency_s,
                status,
                len(body) if size is None else size,
                "" if error is None else f"{type(error).__name__}: {error}"[:200],
                version,
                self._markers(body),
                request_id,
                upstream,
                login,
                user,
                pod,
                name,
                method,
                marked_failure,
                user_class,
            )
        )

    @staticmethod
    def _body(response: Any, status: int, error: Any) -> tuple[bytes, int, Any]:
        body: bytes = b""
        if status:
            try:
                body = response.content or b""
            except Exception as exc:  # a reset mid-body: the reply is unusable
                error, status = exc, 0
        return body, status, error

    def _reply_headers(
        self, response: Any, status: int, body: bytes
    ) -> tuple[str | None, str | None, float | None]:
        version = pod = None
        upstream = None
        if status:
            headers = response.headers
            # `in` before reading: a missing header's KeyError inside geventhttpclient's
            # Headers.get costs more than the lookup, and most replies lack two of these.
            if "x-chaoskit-version" in headers:
                version = headers["x-chaoskit-version"]
            if "x-chaoskit-pod" in headers:
                pod = headers["x-chaoskit-pod"]
            if "x-envoy-upstream-service-time" in headers:
                header = headers["x-envoy-upstream-service-time"]
                upstream = float(header) if header.replace(".", "", 1).isdigit() else None
        if (
            version is None
            and self.profile.detect_version
            and status == 200
            and b"<html" in body[:400].lower()
        ):
            version = reviews_version_from_page(body.decode("utf-8", "replace"))
        return version, pod, upstream

    def _markers(self, body: bytes) -> int:
        bits = 0
        for index, marker in enumerate(self.markers):
            if marker in body:
                bits |= 1 << index
        return bits

    def drop(self, intended: float, login: str | None, why: str) -> None:
        self.dropped += 1
        now = time.perf_counter()
        self.add(
            row(
                self.epoch(intended),
                self.epoch(now),
                now - intended,
                0,
                0,
                why,
                None,
                0,
                self.next_id(),
                None,
                login,
            )
        )

    def add(self, line: list[Any]) -> None:
        self.pending.append(line)
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write(b"".join([encode_row(line) for line in self.pending]))
        self.pending.clear()
        self.out.flush()

    def close(self, summary: dict[str, Any]) -> None:
        # Requests Locust killed at stop never fire an event (§1.2): count them as failures.
        now = time.perf_counter()
        for request_id, pending in list(self.in_flight.items()):
            intended, sent, login, user, cls, name, method = pending
            self.add(
                row(
                    self.epoch(intended),
                    self.epoch(sent),
                    now - intended,
                    0,
                    0,
                    IN_FLIGHT_AT_STOP,
                    None,
                    0,
                    request_id,
                    None,
                    login,
                    user,
                    user_class=cls,
                    # Named as its task asked (Locust would have, had it finished).
                    name=name,
                    method=method,
                )
            )
        self.in_flight.clear()
        self.flush()
        self.out.write(json.dumps(summary).encode() + b"\n")
        self.out.close()


class OpenSchedule:
    """The open model's shared clock: its users start together once all have logged in,
    and the last one to finish its slots ends the run."""

    def __init__(self, users: int) -> None:
        self.users = users
        self.arrived = 0
        self.done = 0
        self.start: float | None = None
        self.go = gevent.event.Event()

    def ready(self, timeout_s: float) -> float:
        """Wait (bounded) for every user, then return the common start time."""
        self.arrived += 1
        if self.arrived >= self.users:
            self.start = time.perf_counter() + 0.1
            self.go.set()
        self.go.wait(timeout=timeout_s)
        if self.start is None:  # a user never arrived (its login failed): start anyway
            self.start = time.perf_counter() + 0.1
        return self.start

    def finished(self) -> bool:
        self.done += 1
        return self.done >= min(self.users, self.arrived)


def make_user_class(
    profile: LoadProfile,
    recorder: Recorder,
    stride: int = 1,
    offset: Callable[[], int] = lambda: 0,
) -> type[FastHttpUser]:
    """The user class. User numbers are ``local * stride + offset()``: a master's workers
    number their users 0, 1, 2... between them and hand out logins as one process would."""
    headers = dict(profile.headers)
    logins = list(profile.logins)
    schedule = OpenSchedule(len(logins))

    class ChaosUser(FastHttpUser):
        # Defined per run: Locust mutates class attributes (host) when it starts (§1.2).
        host = profile.target
        network_timeout = profile.timeout_s
        connection_timeout = min(profile.timeout_s, 5.0)
        concurrency = profile.max_in_flight if profile.model == "open" else 1
        wait_time = constant(profile.think_s)
        user_index = 0
        scheduled = False  # open model: this user has run its slots of the schedule

        def on_start(self) -> None:
            self.local = ChaosUser.user_index
            self.index = self.local * stride + offset()
            # Open model: one user per login in each process, so each login gets its share
            # of the rate whatever the number of processes.
            chosen = self.local if profile.model == "open" else self.index
            self.login = logins[chosen % len(logins)]
            ChaosUser.user_index += 1
            # "{user}" in a header value becomes this user's number (sticky-session keys).
            self.headers = {k: v.replace("{user}", str(self.index)) for k, v in headers.items()}
            if self.login:
                reply = self.client.post(
                    "/login",
                    data={"username": self.login, "passwd": "password"},
                    allow_redirects=False,
                )
                if reply.status_code not in (200, 302):
                    raise RuntimeError(f"login as {self.login!r} failed: {reply.status_code}")

        def send(self, intended: float) -> None:
            request_id = recorder.next_id()
            sent = time.perf_counter()
            recorder.begin(request_id, intended, sent, self.login, self.index)
            reply = self.client.request(
                profile.method,
                profile.path,
                headers={**self.headers, "x-request-id": request_id},
                name=profile.path,
            )
            recorder.finish(request_id, reply, time.perf_counter())

        @task
        def work(self) -> None:
            if profile.model == "closed":
                if recorder.started >= profile.max_requests:
                    gevent.sleep(0.05)
                    return
                self.send(time.perf_counter())
            elif not self.scheduled:
                self.scheduled = True
                self.open_loop()
            else:  # this user's slots are done: idle until the last user ends the run
                gevent.sleep(0.05)

        def open_loop(self) -> None:
            """This user's slots of the process's schedule: slot k is due at k / rate, and
            goes to user k mod n (each user is one login with its own session)."""
            assert profile.rate is not None
            pool = gevent.pool.Pool(profile.max_in_flight)
            total = min(profile.max_requests, int(profile.rate * profile.duration_s))
            preconnect(self.client, profile.path, profile.connect_timeout_s)
            start = schedule.ready(profile.connect_timeout_s)
            for slot in range(self.local % schedule.users, total, schedule.users):
                due = start + slot / profile.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    gevent.sleep(delay)
                if pool.full():
                    recorder.drop(due, self.login, "not sent: max_in_flight requests pending")
                    continue
                pool.spawn(self.send, due)
            pool.join(timeout=profile.timeout_s)
            # What is still pending is recorded as in flight at stop; killed now, it cannot
            # finish after a distributed worker's final stats and be missing from them.
            pool.kill()
            if schedule.finished():
                self.environment.runner.quit()

    assert ChaosUser.__name__ == USER_CLASS_NAME
    return ChaosUser


def preconnect(session: Any, path: str, timeout_s: float) -> None:
    """Open an open-loop user's first connection (TCP, and TLS for https) before the clock
    starts, so its first slots do not pay the set-up, without sending a request.

    A request would wait out any delay fault in force (a 7 s ratings delay held a window's
    start for 6.6 s), and the mesh would count a request that no record holds. The socket
    goes into geventhttpclient's pool for the target, where the first request takes it.
    Best effort: if that pool cannot be reached, the first slots only pay a connection
    set-up, as without this.
    """
    try:
        with gevent.Timeout(timeout_s):
            client = session.client.clientpool.get_client(URL(f"{session.base_url}{path}"))
            pool = client._connection_pool
            pool.release_socket(pool.get_socket())
    except (Exception, gevent.Timeout):
        return  # the window's own requests record whatever is wrong with the target


def own_user_classes(
    profile: LoadProfile,
    recorder: Recorder,
    errors: list[str],
    stride: int = 1,
    offset: Callable[[], int] = lambda: 0,
) -> tuple[list[type[Any]], int]:
    """The user's classes from their locustfile, recorded, and how many users to start;
    exit BAD_LOCUSTFILE with the reason. A class's users are numbered ``local * stride +
    offset()``, so a master's workers number them apart (as for chaoskit's own user)."""
    assert profile.locustfile is not None
    try:
        bases = load_user_classes(
            Path(profile.locustfile), profile.user_classes, profile.connect_timeout_s
        )

        def number(local: int) -> int:
            return local * stride + offset()

        if profile.model == "closed":
            check_some_class_starts(bases, Path(profile.locustfile))
            classes = [
                recorded(base, profile.target, recorder, profile.max_requests, number=number)
                for base in bases
            ]
            return classes, profile.users
        return _open_classes(profile, recorder, errors, bases, number)
    except LocustfileError as exc:
        sys.stderr.write(f"load worker: {exc}\n")
        sys.stderr.flush()
        os._exit(BAD_LOCUSTFILE)


def _open_classes(
    profile: LoadProfile,
    recorder: Recorder,
    errors: list[str],
    bases: list[type[Any]],
    number: Callable[[int], int],
) -> tuple[list[type[Any]], int]:
    """The open model: each arrival picks a class by weight, then one of its tasks by
    weight; each class gets a fixed count of users (Locust's ``fixed_count``) to run them."""
    assert profile.rate is not None
    counts = open_users(bases, profile.users)
    total = min(profile.max_requests, int(profile.rate * profile.duration_s))
    dealt = deal_arrivals(bases, total, profile.seed)
    schedule = OpenSchedule(sum(counts))
    classes = []
    for base, users, slots in zip(bases, counts, dealt, strict=True):
        arrivals = Arrivals(
            rate=profile.rate,
            slots=slots,
            users=users,
            max_in_flight=profile.max_in_flight,
            timeout_s=profile.timeout_s,
            connect_timeout_s=profile.connect_timeout_s,
            schedule=schedule,
            errors=errors,
        )
        cls = recorded(base, profile.target, recorder, profile.max_requests, arrivals, number)
        cls.fixed_count = users  # exactly this many sessions serve the class's arrivals
        classes.append(cls)
    return classes, sum(counts)


def user_errors(runner: Any) -> list[str]:
    """What users' tasks raised, once per distinct error, with Locust's count and where."""
    found = []
    for entry in getattr(runner, "exceptions", {}).values():
        if isinstance(entry, dict):  # Locust: {"count", "msg", "traceback", "nodes"}
            where = _last_frame(str(entry.get("traceback", "")))
            found.append(f"{entry.get('msg')} ({entry.get('count')}x{where})")
        else:
            found.append(str(entry))
    return found


def _last_frame(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("File ")]
    return f", {lines[-1]}" if lines else ""


def stop_grace(profile: LoadProfile) -> float:
    """How long a closed-loop user may finish its current request after the window."""
    return min(profile.timeout_s, 10.0)


def connect(
    env: Environment,
    link: Link,
    timeout_s: float,
    slot: list[int],
    users: dict[str, int] | None = None,
) -> Any:
    """A WorkerRunner connected to its master, or exit: Locust itself retries for 5 min.

    ``slot[0]`` becomes this worker's place in Locust's dealing order when the master says.
    ``users`` (the open model with a locustfile): the sessions per class this worker's
    schedule needs, which the master then deals it exactly.
    """

    def give_up() -> None:
        sys.stderr.write(
            f"load worker {link.index}: could not connect to the Locust master at "
            f"{link.host}:{link.port} within {timeout_s:g}s\n"
        )
        sys.stderr.flush()
        os._exit(CANNOT_CONNECT)

    guard = gevent.spawn_later(timeout_s, give_up)
    runner = env.create_worker_runner(master_host=link.host, master_port=link.port)
    guard.kill()

    def on_slot(environment: Environment, msg: Any, **_: Any) -> None:
        slot[0] = int(msg.data["slot"])

    runner.register_message(SLOT_MESSAGE, on_slot)
    # Only now, so the SLOT reply cannot arrive before its listener.
    runner.send_message(HELLO_MESSAGE, {"index": link.index, "users": users})
    return runner


def report_done(env: Environment, runner: Any, link: Link, recorder: Recorder) -> None:
    """Send the last stats and then DONE, and wait (bounded) until ZeroMQ has sent them."""
    data: dict[str, Any] = {}
    # The open loop quits its runner itself, without Locust's final report: send one.
    env.events.report_to_master.fire(client_id=runner.client_id, data=data)  # type: ignore[no-untyped-call]
    runner.send_message("stats", data)
    runner.send_message(DONE_MESSAGE, {"index": link.index, "started": recorder.started})
    socket = runner.client.socket
    socket.close(linger=2000)
    socket.context.term()


def install_resolver(names: dict[str, str]) -> None:
    """Resolve ``names`` to fixed addresses in this process (geventhttpclient looks hosts up
    through ``gevent.socket.getaddrinfo``), so the URL's host name is sent as SNI."""
    if not names:
        return
    lookup = gevent.socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return lookup(names.get(str(host).lower(), host), *args, **kwargs)

    gevent.socket.getaddrinfo = getaddrinfo


def run(profile: LoadProfile, out: Path, link: Link | None = None) -> dict[str, Any]:
    random.seed(profile.seed)
    install_resolver({host.lower(): address for host, address in profile.resolve})
    recorder = Recorder(profile, out)
    slot = [0 if link is None else link.index]
    stride = 1 if link is None else link.workers
    events = Events()  # type: ignore[no-untyped-call]
    arrival_errors: list[str] = []  # what a user class's tasks raised in the open model
    if profile.locustfile is None:
        user_classes: list[type[Any]] = [
            make_user_class(profile, recorder, stride, lambda: slot[0])
        ]
        users = profile.users if profile.model == "closed" else len(profile.logins)
    else:
        user_classes, users = own_user_classes(
            profile, recorder, arrival_errors, stride, lambda: slot[0]
        )
        events.request.add_listener(on_request(recorder))  # type: ignore[no-untyped-call]
    env = Environment(
        user_classes=user_classes,
        events=events,
        # A user's own class runs as under `locust`: a task that raises is logged and the
        # user goes on; chaoskit's own class lets an error stop the window.
        catch_exceptions=profile.locustfile is not None,
        # Let a closed-loop user finish its current request; what is still pending after
        # the grace is recorded as in flight at stop.
        stop_timeout=stop_grace(profile),
    )
    # Every run ends by itself: at the window's end (closed) or when the schedule is done.
    window = (
        profile.duration_s
        if profile.model == "closed"
        else profile.duration_s + profile.timeout_s + 1
    )
    if link is None:
        runner = env.create_local_runner()
    else:
        # The open model's classes carry their sessions as fixed_count (_open_classes).
        asked = (
            {cls.__name__: int(cls.fixed_count) for cls in user_classes}
            if profile.model == "open" and profile.locustfile is not None
            else None
        )
        runner = connect(env, link, profile.connect_timeout_s, slot, asked)
        # The master starts and ends the window; this only bounds a master that went away.
        window += profile.connect_timeout_s + stop_grace(profile) + 10
    # A collection pause stalls every greenlet at once; the run is short and bounded.
    gc.disable()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    export = None
    if link is None:
        runner.start(users, spawn_rate=max(users, 1))
        # Locust's own CSV statistics; a distributed worker's are written by its master.
        if profile.csv_prefix is not None:
            export = CsvExport(env, profile.csv_prefix)
            export.start()
    stopper = gevent.spawn_later(window, runner.quit)
    runner.greenlet.join()
    stopper.kill()
    gc.enable()
    csv_files = [] if export is None else export.finish()
    errors = [f"{e.error} ({e.occurrences}x)" for e in env.stats.errors.values()]
    summary = {
        "done": True,
        "started": recorder.started,
        "dropped": recorder.dropped,
        "in_flight_at_stop": len(recorder.in_flight),
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        # A worker ships its stats to the master as it goes: the master has the totals.
        "locust_requests": env.stats.total.num_requests if link is None else None,
        "locust_errors": errors[:5],
        "user_errors": (user_errors(runner) + arrival_errors)[:5],
        "csv_files": csv_files,
    }
    if link is not None:
        summary["index"] = link.index
        report_done(env, runner, link, recorder)
    recorder.close(summary)
    return summary


def parse(argv: list[str]) -> tuple[Path, Path, Link | None]:
    parser = argparse.ArgumentParser(prog="python -m chaoskit.load.worker")
    parser.add_argument("spec", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--master", help="HOST:PORT of a Locust master (distributed mode)")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    link = None
    if args.master:
        host, _, port = args.master.rpartition(":")
        link = Link(host, int(port), args.index, args.workers)
    return args.spec, args.out, link


def main(argv: list[str]) -> int:
    if argv == ["--wait"]:
        # A spare (chaoskit.load.runner): imports done, wait for SPEC and OUT on stdin.
        # EOF means the parent let it go (or died): exit quietly.
        line = sys.stdin.readline()
        if not line.strip():
            return 0
        argv = [str(a) for a in json.loads(line)]
        # The event loop caches "now" and did not run while this waited: without a refresh,
        # every timer below (the window's end, the hard stop) would count from before the
        # wait and fire at once.
        gevent.get_hub().loop.update_now()
    spec, out, link = parse(argv)
    profile = LoadProfile.from_json(json.loads(spec.read_text()))
    try:
        ensure_open_files(open_files_needed(profile))
    except TooFewOpenFiles as exc:
        sys.stderr.write(f"load worker: {exc}\n")
        sys.stderr.flush()
        return TOO_FEW_OPEN_FILES
    hard_stop = profile.duration_s + profile.timeout_s + 30
    if link is not None:
        hard_stop += profile.connect_timeout_s + stop_grace(profile)
    # A last resort so the worker can never outlive its window, whatever Locust does.
    killer: Callable[[], None] = lambda: os._exit(3)  # noqa: E731
    gevent.spawn_later(hard_stop, killer)
    run(profile, out, link)
    if link is not None:
        return 0  # a normal exit lets ZeroMQ flush the last messages to the master
    # OUT is written and closed; skip the interpreter's teardown of gevent and Locust
    # (about 0.2 s of every window's wall time).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
