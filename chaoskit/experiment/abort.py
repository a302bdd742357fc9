"""The run's abort condition: stop injecting when the mesh's success rate falls too low.

While load runs, a thread reads the ingress gateway's own counters (Envoy's
``http.<listener>.downstream_rq_total`` and ``downstream_rq_5xx``, the same names on both
backends) about once a second. When the success rate since the window began falls below the
floor, every fault is rolled back at once and the run stops after that experiment: a game
day must not keep a real mesh broken to finish its schedule.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from chaoskit.cluster.backend import AbortGuard, parse_stats
from chaoskit.errors import ChaoskitError

# Too few requests say nothing about a success rate; wait for this many.
MIN_REQUESTS = 20


class RunAborted(ChaoskitError):
    """The abort guard tripped: faults were rolled back and the run stops here."""


def gateway_counts(text: str) -> tuple[int, int]:
    """(requests, 5xx answers) summed over the gateway's HTTP listeners."""
    stats = parse_stats(text)
    total = sum(v for k, v in stats.items() if k.endswith(".downstream_rq_total"))
    errors = sum(v for k, v in stats.items() if k.endswith(".downstream_rq_5xx"))
    return total, errors


class AbortWatch:
    """Polls ``read_stats`` in a thread while a window runs; trips at most once."""

    def __init__(
        self,
        read_stats: Callable[[], str],
        floor: float,
        on_trip: Callable[[str], object],
        *,
        interval_s: float = 1.0,
    ) -> None:
        self._read = read_stats
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = (0, 0)
        self.guard = AbortGuard(
            floor, self._success_rate, on_trip=on_trip, name="the gateway's success rate"
        )

    def _success_rate(self) -> float | None:
        total, errors = gateway_counts(self._read())
        sent, failed = total - self._start[0], errors - self._start[1]
        if sent < MIN_REQUESTS:
            return None
        return 1.0 - failed / sent

    @property
    def tripped(self) -> bool:
        return self.guard.tripped

    @property
    def reason(self) -> str:
        return self.guard.reason

    def __enter__(self) -> AbortWatch:
        self._start = gateway_counts(self._read())
        self._thread = threading.Thread(target=self._run, name="chaoskit-abort-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self.guard.poll():
                    return
            except Exception:  # a failed read is no evidence; try again next time
                continue

    def stop(self) -> None:
        """Stop polling; one last look covers the end of the window."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if not self.guard.tripped:
            with contextlib.suppress(Exception):  # a failed read is no evidence
                self.guard.poll()
