"""A Locust users dispatcher that gives each worker the users it asked for.

Imported only by :mod:`chaoskit.load.master`, after Locust. The open model with a
locustfile runs each class's arrivals on a fixed set of sessions per worker (its
``fixed_count`` there): Locust's own ``UsersDispatcher`` deals fixed-count users
interleaved by class and round-robin over the workers (locust/dispatch.py,
``_user_gen`` and ``_add_users_on_workers``, Locust 2.47.0), so two classes of one session
each would land both in one worker. The master plugs this one in through
``Environment(dispatcher_class=...)``, Locust's extension point for that.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping

from locust.dispatch import UsersDispatcher
from locust.runners import WorkerNode

__all__ = ["planned_dispatcher"]

Plan = Mapping[str, Mapping[str, int]]  # worker node id -> {user class name: users}


def planned_dispatcher(plan: Plan) -> type[UsersDispatcher]:
    """A dispatcher class that deals every worker its ``plan`` entry in one step."""

    class PlannedDispatcher(UsersDispatcher):
        def _dispatcher(self) -> Generator[dict[str, dict[str, int]]]:
            self._dispatch_in_progress = True
            # Only the workers still connected: one that ended its schedule has quit.
            present = {node.id for node in self._worker_nodes}
            self._users_on_workers = {
                node: dict(counts) for node, counts in plan.items() if node in present
            }
            self._current_user_count = self.get_current_user_count()
            yield self._users_on_workers
            self._dispatch_in_progress = False

        def add_worker(self, worker_node: WorkerNode) -> None:
            # A window's workers are all there before it starts; none to rebalance onto.
            self._worker_nodes.append(worker_node)

        def remove_worker(self, worker_node: WorkerNode) -> None:
            # A worker whose schedule is done quits: the others keep their users.
            self._worker_nodes = [w for w in self._worker_nodes if w.id != worker_node.id]

    return PlannedDispatcher
