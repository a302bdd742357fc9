"""Locust itself, with no chaoskit hook, measured the way chaoskit's load worker measures.

``python -m benchmarks.plain_locust LOCUSTFILE HOST USERS DURATION`` runs the locustfile's
user classes closed-loop as Locust's own local runner does, and prints one JSON object:
the requests Locust counted and the CPU seconds from the users' start to the runner's end.
The worker's ``cpu_s`` covers the same span with the same collector setting, so the two
differ only by the recording (its wrapper and its ``events.request`` listener).
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401 - first: it monkey-patches ssl, socket and time
# isort: on

import gc
import importlib.util
import inspect
import json
import sys
import time

import gevent
from locust import User
from locust.env import Environment
from locust.event import Events


def user_classes(path: str) -> list[type[User]]:
    spec = importlib.util.spec_from_file_location("plain_locustfile", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, User) and not value.abstract
    ]


def main(argv: list[str]) -> int:
    path, host, users, duration = argv[0], argv[1], int(argv[2]), float(argv[3])
    env = Environment(user_classes=user_classes(path), events=Events(), host=host)  # type: ignore[no-untyped-call]
    runner = env.create_local_runner()
    gc.disable()  # as the load worker does
    cpu0 = time.process_time()
    runner.start(users, spawn_rate=users)
    stopper = gevent.spawn_later(duration, runner.quit)
    runner.greenlet.join()
    stopper.kill()
    cpu = time.process_time() - cpu0
    print(json.dumps({"requests": env.stats.total.num_requests, "cpu_s": cpu}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
