"""A user's own Locust traffic in the load worker: import their locustfile, pick the user
class, and record every request it sends through Locust's ``events.request`` hook.

Imported only by :mod:`chaoskit.load.worker`, after Locust (which must be imported first).
The class runs unchanged: its tasks, weights, TaskSets and ``wait_time`` are Locust's. Only
its client is wrapped, to give each request an ``x-request-id`` (so the sidecars' access logs
name it, as for chaoskit's own load) and a ``context`` entry that ties Locust's event back to
chaoskit's record.
"""

from __future__ import annotations

import importlib.util
import inspect
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import gevent
import gevent.local
import gevent.pool
from locust import User, constant, task
from locust.exception import StopUser

from chaoskit.load.records import USER_NEVER_STARTED

__all__ = [
    "Arrivals",
    "LocustfileError",
    "check_some_class_starts",
    "RequestSink",
    "deal_arrivals",
    "load_user_classes",
    "on_request",
    "open_users",
    "recorded",
    "where_raised",
]

CONTEXT_KEY = "chaoskit_request_id"


class LocustfileError(Exception):
    """The locustfile does not import, or holds no usable user class."""


class RequestSink(Protocol):
    """What the recorder offers: request ids, and records begun and finished."""

    started: int

    def next_id(self) -> str: ...

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
    ) -> None: ...

    def finish_event(self, request_id: str, event: dict[str, Any]) -> None: ...

    def drop(self, intended: float, login: str | None, why: str) -> None: ...


class Schedule(Protocol):
    """The open model's shared clock (the worker's): users start together, the last to
    finish its slots ends the run."""

    users: int

    def ready(self, timeout_s: float) -> float: ...

    def finished(self) -> bool: ...


@dataclass
class Arrivals:
    """The open model for one user class: its ``slots`` of the window's schedule (slot k is
    due k / ``rate`` after the common start), each running one task picked by the class's
    weights, dealt round-robin to the class's ``users`` (whose sessions they use)."""

    rate: float
    slots: list[int]
    users: int
    max_in_flight: int
    timeout_s: float
    connect_timeout_s: float
    schedule: Schedule
    errors: list[str] = field(default_factory=list)


# The intended time of the arrival a greenlet is running: its first request is measured
# from it (coordinated omission corrected, as for chaoskit's own open model).
_ARRIVAL = gevent.local.local()


def where_raised(exc: BaseException, path: Path) -> str:
    """``file:line`` of the deepest frame in the user's file, else of the exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if Path(f.filename).resolve() == path.resolve()]
    frame = mine[-1] if mine else (frames[-1] if frames else None)
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return f"{path}:{exc.lineno}"
    return f"{frame.filename}:{frame.lineno}" if frame is not None else str(path)


class _ImportTooSlow(Exception):
    pass


def _too_slow(signum: int, frame: Any) -> None:
    raise _ImportTooSlow()


def load_user_classes(
    locustfile: Path, names: Sequence[str], import_timeout_s: float = 30.0
) -> list[type[User]]:
    """Import ``locustfile`` as its own module and return the user classes ``names`` (or, as
    ``locust -f`` runs them, every concrete one it defines). An import still running after
    ``import_timeout_s`` (a loop, a call that never answers) is an error naming its line."""
    module_name = f"chaoskit_locustfile_{locustfile.stem}"
    spec = importlib.util.spec_from_file_location(module_name, locustfile)
    if spec is None or spec.loader is None:
        raise LocustfileError(f"locustfile {locustfile}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # A locustfile imports its helpers from beside it, as `locust -f` lets it.
    sys.path.insert(0, str(locustfile.parent))
    # SIGALRM interrupts even a loop that never yields to gevent (this is the main thread).
    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.setitimer(signal.ITIMER_REAL, import_timeout_s)
    try:
        spec.loader.exec_module(module)
    except _ImportTooSlow as exc:
        raise LocustfileError(
            f"locustfile {locustfile} did not finish importing within {import_timeout_s:g}s "
            f"(at {where_raised(exc, locustfile)} then)"
        ) from exc
    except Exception as exc:
        raise LocustfileError(
            f"locustfile {locustfile} does not import: {type(exc).__name__}: {exc} "
            f"(at {where_raised(exc, locustfile)})"
        ) from exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    candidates = {
        key: value
        for key, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, User) and not value.abstract
    }
    if not names:
        if not candidates:
            raise LocustfileError(
                f"locustfile {locustfile} defines no concrete Locust User class "
                "(subclass HttpUser or FastHttpUser)"
            )
        return list(candidates.values())
    return [_named_class(module, locustfile, name, candidates) for name in names]


def _named_class(
    module: Any, locustfile: Path, name: str, candidates: dict[str, type[User]]
) -> type[User]:
    found = getattr(module, name, None)
    if found is None:
        raise LocustfileError(
            f"locustfile {locustfile} has no {name!r}; its user classes: "
            f"{', '.join(sorted(candidates)) or 'none'}"
        )
    if not (inspect.isclass(found) and issubclass(found, User)):
        raise LocustfileError(
            f"locustfile {locustfile}: {name!r} is not a Locust User class "
            "(subclass HttpUser or FastHttpUser)"
        )
    if found.abstract:
        raise LocustfileError(
            f"locustfile {locustfile}: {name!r} is abstract (abstract = True); name a "
            "concrete subclass"
        )
    return found


def check_some_class_starts(classes: Sequence[type[User]], locustfile: Path) -> None:
    """The closed model: Locust drops the classes with neither ``weight`` nor
    ``fixed_count`` (locust/env.py, ``_remove_user_classes_with_weight_zero``) and refuses
    to run none; say which file and classes instead of Locust's bare ValueError."""
    if not any(c.weight > 0 or c.fixed_count > 0 for c in classes):
        names = ", ".join(c.__name__ for c in classes)
        raise LocustfileError(
            f"locustfile {locustfile}: user classes {names} all have weight 0 and no "
            "fixed_count, so Locust would start none of them; give one a positive weight"
        )


def open_users(classes: Sequence[type[User]], users: int) -> list[int]:
    """How many users (sessions) serve each class's arrivals in the open model.

    A class's ``fixed_count`` is its count, as in Locust; the other classes share what is
    left of ``users`` by ``weight``. Every class gets at least one, or its arrivals would
    have no user to run them.
    """
    fixed = [max(0, int(getattr(c, "fixed_count", 0) or 0)) for c in classes]
    left = max(0, users - sum(fixed))
    weights = [
        0 if f else max(0, int(getattr(c, "weight", 1) or 0))
        for c, f in zip(classes, fixed, strict=True)
    ]
    total = sum(weights)
    return [
        f if f else max(1, round(left * w / total) if total else 1)
        for f, w in zip(fixed, weights, strict=True)
    ]


def deal_arrivals(classes: Sequence[type[User]], total: int, seed: int) -> list[list[int]]:
    """The slots of each class: every arrival picks its class by the classes' ``weight``
    (Locust's weight between user classes), drawn from ``seed`` so a window is repeatable.
    A class with ``weight = 0`` gets no arrivals."""
    weights = [max(0, int(getattr(c, "weight", 1) or 0)) for c in classes]
    if not any(weights):
        names = ", ".join(c.__name__ for c in classes)
        raise LocustfileError(
            f"user classes {names} all have weight 0: the open model picks each arrival's "
            "class by weight, so give one a positive weight"
        )
    slots: list[list[int]] = [[] for _ in classes]
    if len(classes) == 1:
        slots[0] = list(range(total))
        return slots
    draw = random.Random(seed)
    for slot, index in enumerate(draw.choices(range(len(classes)), weights, k=total)):
        slots[index].append(slot)
    return slots


def recorded(
    base: type[User],
    target: str,
    sink: RequestSink,
    max_requests: int,
    arrivals: Arrivals | None = None,
    number: Callable[[int], int] = lambda local: local,
) -> type[User]:
    """``base`` with its host set to the mesh under test and its client's requests recorded.

    After ``max_requests`` requests a user stops (Locust's ``StopUser``): every window is
    bounded in count as well as in time. With ``arrivals`` (the open model) the class's
    own tasks run one per arrival, picked by their weights, instead of in Locust's loop.
    ``number`` turns a user's place among this process's users of the class into the
    number its records carry (a distributed worker's users are numbered apart from the
    other workers').
    """
    counter = [0]
    arrive = None if arrivals is None else _arrival_task(base, sink, arrivals)

    class Recorded(base):  # type: ignore[valid-type,misc]
        host = target
        abstract = False
        if arrive is not None:
            tasks = [arrive]
            wait_time = constant(0)

        def __init__(self, environment: Any) -> None:
            super().__init__(environment)
            self.chaoskit_index = counter[0]
            self.chaoskit_user = number(counter[0])
            counter[0] += 1
            client = getattr(self, "client", None)
            if client is not None:
                _wrap(client, sink, self, max_requests, environment, arrivals is not None)

        def on_start(self) -> None:
            try:
                super().on_start()
            except Exception as exc:
                if arrivals is not None:
                    _give_up_slots(self, sink, arrivals, exc)
                raise  # Locust logs it and the user stops, as under `locust`

    if arrive is not None:
        # Set after the class exists: Locust's metaclass would add the base's tasks to any
        # list given in the class body.
        Recorded.tasks = [arrive]
    # Locust names a user's stats and its dispatch by the class name: keep the user's.
    Recorded.__name__ = Recorded.__qualname__ = base.__name__
    return Recorded


def _wrap(
    client: Any,
    sink: RequestSink,
    user: Any,
    max_requests: int,
    environment: Any,
    open_model: bool,
) -> None:
    send = client.request
    index, class_name = user.chaoskit_user, type(user).__name__

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if sink.started >= max_requests:
            # The window's count bound is reached: it ends here, as at its duration.
            gevent.spawn(environment.runner.quit)
            raise StopUser()
        request_id = sink.next_id()
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("x-request-id", request_id)
        context = dict(kwargs.pop("context", None) or {})
        context[CONTEXT_KEY] = request_id
        sent = time.perf_counter()
        # An arrival's first request is measured from the arrival's slot, later ones of
        # the same task from when they were sent. (A greenlet-local read costs a closed
        # loop's CPU-bound worker time, and there it is always None.)
        due = sent
        if open_model:
            intended = getattr(_ARRIVAL, "intended", None)
            _ARRIVAL.intended = None
            due = sent if intended is None else intended
        # The name Locust will give it (name=, a rename_request group, else the URL as
        # given): a request still in flight at the window's end keeps it.
        name = kwargs.get("name") or getattr(client, "request_name", None) or url
        sink.begin(request_id, due, sent, None, index, class_name, str(name), method.upper())
        return send(method, url, *args, headers=headers, context=context, **kwargs)

    client.request = request


def _plain_tasks(base: type[User]) -> list[Callable[[Any], Any]]:
    """The class's tasks, repeated by weight as Locust lists them; a TaskSet is a flow that
    cannot be cut into independent arrivals."""
    found: list[Callable[[Any], Any]] = []
    for entry in base.tasks:
        if inspect.isclass(entry):
            raise LocustfileError(
                f"user class {base.__name__} runs the task set {entry.__name__}: a flow "
                "cannot be cut into independent arrivals, so the open model (rate=) cannot "
                "run it; use users= (Locust's closed model)"
            )
        found.append(entry)  # type: ignore[arg-type]
    if not found:
        raise LocustfileError(f"user class {base.__name__} has no tasks")
    return found


def _arrival_task(base: type[User], sink: RequestSink, arrivals: Arrivals) -> Callable[..., Any]:
    weighted = _plain_tasks(base)
    source = Path(inspect.getsourcefile(base) or "")

    def run_one(user: Any, due: float) -> None:
        _ARRIVAL.intended = due
        try:
            random.choice(weighted)(user)
        except StopUser:
            pass
        except Exception as exc:  # a task that raises: logged, as Locust logs it
            arrivals.errors.append(f"{type(exc).__name__}: {exc} ({where_raised(exc, source)})")
        finally:
            _ARRIVAL.intended = None

    @task
    def arrivals_of_this_user(user: Any) -> None:
        if getattr(user, "chaoskit_scheduled", False):
            gevent.sleep(0.05)  # its slots are done: idle until the last user ends the run
            return
        user.chaoskit_scheduled = True
        pool = gevent.pool.Pool(arrivals.max_in_flight)
        start = arrivals.schedule.ready(arrivals.connect_timeout_s)
        for slot in arrivals.slots[user.chaoskit_index % arrivals.users :: arrivals.users]:
            due = start + slot / arrivals.rate
            delay = due - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
            if pool.full():
                sink.drop(due, None, "not sent: max_in_flight requests pending")
                continue
            pool.spawn(run_one, user, due)
        pool.join(timeout=arrivals.timeout_s)
        pool.kill()
        if arrivals.schedule.finished():
            gevent.spawn(user.environment.runner.quit)  # not from a user greenlet it kills

    return arrivals_of_this_user


def _give_up_slots(user: Any, sink: RequestSink, arrivals: Arrivals, exc: Exception) -> None:
    """An open-model user whose ``on_start`` raised (a refused login) runs none of its
    slots: each is recorded as a failed request at its slot, so the window still holds
    every arrival of the schedule, and the others do not wait for this user."""
    start = arrivals.schedule.ready(arrivals.connect_timeout_s)
    why = f"{USER_NEVER_STARTED}: {type(exc).__name__}: {exc}"[:200]
    for slot in arrivals.slots[user.chaoskit_index % arrivals.users :: arrivals.users]:
        due = start + slot / arrivals.rate
        delay = due - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)  # each at its slot, as a request not sent would be
        sink.drop(due, None, why)
    if arrivals.schedule.finished():
        gevent.spawn(user.environment.runner.quit)


def on_request(sink: RequestSink) -> Any:
    """The ``events.request`` listener: finish the record the wrapped client began."""

    def listener(**event: Any) -> None:
        request_id = (event.get("context") or {}).get(CONTEXT_KEY)
        if request_id is not None:
            sink.finish_event(request_id, event)

    return listener
