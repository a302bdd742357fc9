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
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Protocol

from locust import User
from locust.exception import StopUser

__all__ = [
    "LocustfileError",
    "RequestSink",
    "load_user_class",
    "on_request",
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
        self, request_id: str, intended: float, sent: float, login: str | None, user: int
    ) -> None: ...

    def finish_event(self, request_id: str, event: dict[str, Any], done: float) -> None: ...


def where_raised(exc: BaseException, path: Path) -> str:
    """``file:line`` of the deepest frame in the user's file, else of the exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if Path(f.filename).resolve() == path.resolve()]
    frame = mine[-1] if mine else (frames[-1] if frames else None)
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return f"{path}:{exc.lineno}"
    return f"{frame.filename}:{frame.lineno}" if frame is not None else str(path)


def load_user_class(locustfile: Path, name: str | None) -> type[User]:
    """Import ``locustfile`` as its own module and return the user class ``name`` (or its
    only concrete one)."""
    module_name = f"chaoskit_locustfile_{locustfile.stem}"
    spec = importlib.util.spec_from_file_location(module_name, locustfile)
    if spec is None or spec.loader is None:
        raise LocustfileError(f"locustfile {locustfile}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # A locustfile imports its helpers from beside it, as `locust -f` lets it.
    sys.path.insert(0, str(locustfile.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise LocustfileError(
            f"locustfile {locustfile} does not import: {type(exc).__name__}: {exc} "
            f"(at {where_raised(exc, locustfile)})"
        ) from exc
    candidates = {
        key: value
        for key, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, User) and not value.abstract
    }
    if name is not None:
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
    if len(candidates) != 1:
        listed = ", ".join(sorted(candidates)) or "none"
        raise LocustfileError(
            f"locustfile {locustfile} defines {len(candidates)} user classes ({listed}); "
            "name one: load.run(locustfile=..., user='Name')"
        )
    return next(iter(candidates.values()))


def recorded(base: type[User], target: str, sink: RequestSink, max_requests: int) -> type[User]:
    """``base`` with its host set to the mesh under test and its client's requests recorded.

    After ``max_requests`` requests a user stops (Locust's ``StopUser``): every window is
    bounded in count as well as in time."""
    counter = [0]

    class Recorded(base):  # type: ignore[valid-type,misc]
        host = target
        abstract = False

        def __init__(self, environment: Any) -> None:
            super().__init__(environment)
            self.chaoskit_index = counter[0]
            counter[0] += 1
            client = getattr(self, "client", None)
            if client is not None:
                _wrap(client, sink, self.chaoskit_index, max_requests)

    # Locust names a user's stats and its dispatch by the class name: keep the user's.
    Recorded.__name__ = Recorded.__qualname__ = base.__name__
    return Recorded


def _wrap(client: Any, sink: RequestSink, user: int, max_requests: int) -> None:
    send = client.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if sink.started >= max_requests:
            raise StopUser()
        request_id = sink.next_id()
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("x-request-id", request_id)
        context = dict(kwargs.pop("context", None) or {})
        context[CONTEXT_KEY] = request_id
        sent = time.perf_counter()
        sink.begin(request_id, sent, sent, None, user)
        return send(method, url, *args, headers=headers, context=context, **kwargs)

    client.request = request


def on_request(sink: RequestSink) -> Any:
    """The ``events.request`` listener: finish the record the wrapped client began."""

    def listener(**event: Any) -> None:
        request_id = (event.get("context") or {}).get(CONTEXT_KEY)
        if request_id is not None:
            sink.finish_event(request_id, event, time.perf_counter())

    return listener
