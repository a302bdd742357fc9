"""The load worker: Locust in a child process (``python -m chaoskit.load.worker SPEC OUT``,
or ``--wait`` to read ``["SPEC", "OUT"]`` from stdin once its imports are done).

Importing Locust monkey-patches the interpreter with gevent, and crashes if ``ssl`` was
imported first (locust-and-kind.md §1.7), so this module imports it before anything else
and pytest never imports it at all. Records go to OUT as JSON lines while the load runs;
the last line is a summary object.
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401 - first: it monkey-patches ssl, socket and time
# isort: on

import gc
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
from locust import FastHttpUser, constant, task
from locust.env import Environment
from locust.event import Events

from chaoskit.load.profile import LoadProfile
from chaoskit.load.records import IN_FLIGHT_AT_STOP, RequestRecord
from chaoskit.mesh.apps.bookinfo.version import reviews_version_from_page

FLUSH_EVERY = 250  # small writes: a big one stalls the send loop (visible as lateness)


class Recorder:
    """Collects records, tracks what is in flight, and writes batches to OUT."""

    def __init__(self, profile: LoadProfile, out: Path) -> None:
        self.profile = profile
        self.out = out.open("a", encoding="utf-8")
        self.pending: list[RequestRecord] = []
        self.in_flight: dict[str, tuple[float, float, str | None, int]] = {}
        self.started = 0
        self.dropped = 0
        self.counter = 0
        # perf_counter for intervals, mapped onto the epoch once for cross-process times.
        self.epoch0 = time.time()
        self.perf0 = time.perf_counter()
        self.markers = [m.encode() for m in profile.markers]

    def epoch(self, perf: float) -> float:
        return self.epoch0 + (perf - self.perf0)

    def next_id(self) -> str:
        self.counter += 1
        return f"ck-{os.getpid()}-{self.counter}"

    def begin(
        self, request_id: str, intended: float, sent: float, login: str | None, user: int
    ) -> None:
        self.started += 1
        self.in_flight[request_id] = (intended, sent, login, user)

    def finish(self, request_id: str, response: Any, done: float) -> None:
        intended, sent, login, user = self.in_flight.pop(request_id)
        status = int(getattr(response, "status_code", 0) or 0)
        error = getattr(response, "error", None)
        body: bytes = b""
        if status:
            try:
                body = response.content or b""
            except Exception as exc:  # a reset mid-body: the reply is unusable
                error, status = exc, 0
        version = pod = None
        if status:
            version = response.headers.get("x-chaoskit-version")
            pod = response.headers.get("x-chaoskit-pod")
        if (
            version is None
            and self.profile.detect_version
            and status == 200
            and b"<html" in body[:400].lower()
        ):
            version = reviews_version_from_page(body.decode("utf-8", "replace"))
        bits = 0
        for index, marker in enumerate(self.markers):
            if marker in body:
                bits |= 1 << index
        upstream = None
        if status:
            header = response.headers.get("x-envoy-upstream-service-time")
            upstream = float(header) if header and header.replace(".", "", 1).isdigit() else None
        self.add(
            RequestRecord(
                intended=self.epoch(intended),
                sent=self.epoch(sent),
                latency_s=done - intended,
                status=status,
                bytes=len(body),
                error="" if error is None else f"{type(error).__name__}: {error}"[:200],
                version=version,
                markers=bits,
                request_id=request_id,
                upstream_ms=upstream,
                login=login,
                user=user,
                pod=pod,
            )
        )

    def drop(self, intended: float, login: str | None, why: str) -> None:
        self.dropped += 1
        now = time.perf_counter()
        self.add(
            RequestRecord(
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

    def add(self, record: RequestRecord) -> None:
        self.pending.append(record)
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        for record in self.pending:
            self.out.write(json.dumps(record.to_row(), separators=(",", ":")) + "\n")
        self.pending.clear()
        self.out.flush()

    def close(self, summary: dict[str, Any]) -> None:
        # Requests Locust killed at stop never fire an event (§1.2): count them as failures.
        now = time.perf_counter()
        for request_id, (intended, sent, login, user) in list(self.in_flight.items()):
            self.add(
                RequestRecord(
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
                )
            )
        self.in_flight.clear()
        self.flush()
        self.out.write(json.dumps(summary) + "\n")
        self.out.close()


def make_user_class(profile: LoadProfile, recorder: Recorder) -> type[FastHttpUser]:
    headers = dict(profile.headers)
    logins = list(profile.logins)

    class ChaosUser(FastHttpUser):
        # Defined per run: Locust mutates class attributes (host) when it starts (§1.2).
        host = profile.target
        network_timeout = profile.timeout_s
        connection_timeout = min(profile.timeout_s, 5.0)
        concurrency = profile.max_in_flight if profile.model == "open" else 1
        wait_time = constant(profile.think_s)
        user_index = 0

        def on_start(self) -> None:
            self.index = ChaosUser.user_index
            self.login = logins[self.index % len(logins)]
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
            else:
                self.open_loop()

        def open_loop(self) -> None:
            assert profile.rate is not None
            pool = gevent.pool.Pool(profile.max_in_flight)
            total = min(profile.max_requests, int(profile.rate * profile.duration_s))
            # One unrecorded request opens the first connection before the clock starts.
            self.client.request(profile.method, profile.path, headers=self.headers, name="warm-up")
            start = time.perf_counter() + 0.1
            for index in range(total):
                due = start + index / profile.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    gevent.sleep(delay)
                if pool.full():
                    recorder.drop(due, self.login, "not sent: max_in_flight requests pending")
                    continue
                pool.spawn(self.send, due)
            pool.join(timeout=profile.timeout_s)
            self.environment.runner.quit()

    return ChaosUser


def run(profile: LoadProfile, out: Path) -> dict[str, Any]:
    random.seed(profile.seed)
    recorder = Recorder(profile, out)
    user_class = make_user_class(profile, recorder)
    env = Environment(
        user_classes=[user_class],
        events=Events(),  # type: ignore[no-untyped-call]
        catch_exceptions=False,
        # Let a closed-loop user finish its current request; what is still pending after
        # the grace is recorded as in flight at stop.
        stop_timeout=min(profile.timeout_s, 10.0),
    )
    runner = env.create_local_runner()
    users = profile.users if profile.model == "closed" else 1
    # A collection pause stalls every greenlet at once; the run is short and bounded.
    gc.disable()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    runner.start(users, spawn_rate=max(users, 1))
    # Every run ends by itself: at the window's end (closed) or when the schedule is done.
    window = (
        profile.duration_s
        if profile.model == "closed"
        else profile.duration_s + profile.timeout_s + 1
    )
    stopper = gevent.spawn_later(window, runner.quit)
    runner.greenlet.join()
    stopper.kill()
    gc.enable()
    errors = [f"{e.error} ({e.occurrences}x)" for e in env.stats.errors.values()]
    summary = {
        "done": True,
        "started": recorder.started,
        "dropped": recorder.dropped,
        "in_flight_at_stop": len(recorder.in_flight),
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "locust_requests": env.stats.total.num_requests,
        "locust_errors": errors[:5],
        "user_errors": [str(e) for e in getattr(runner, "exceptions", {}).values()][:5],
    }
    recorder.close(summary)
    return summary


def main(argv: list[str]) -> int:
    if argv == ["--wait"]:
        # A spare (chaoskit.load.runner): imports done, wait for SPEC and OUT on stdin.
        # EOF means the parent let it go (or died): exit quietly.
        line = sys.stdin.readline()
        if not line.strip():
            return 0
        argv = [str(a) for a in json.loads(line)]
    if len(argv) != 2:
        sys.stderr.write("usage: python -m chaoskit.load.worker SPEC.json OUT.jsonl\n")
        return 2
    profile = LoadProfile.from_json(json.loads(Path(argv[0]).read_text()))
    hard_stop = profile.duration_s + profile.timeout_s + 30
    # A last resort so the worker can never outlive its window, whatever Locust does.
    killer: Callable[[], None] = lambda: os._exit(3)  # noqa: E731
    gevent.spawn_later(hard_stop, killer)
    run(profile, Path(argv[1]))
    # OUT is written and closed; skip the interpreter's teardown of gevent and Locust
    # (about 0.2 s of every window's wall time).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
