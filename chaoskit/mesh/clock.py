"""Time as the cluster logic sees it: injected, so tests run on a fake clock.

Envoy reads a ``TimeSource`` (monotonic time) for outlier ejection, backoff and timers;
``Clock`` is the same seam. Nothing here sleeps: whoever drives the logic decides when
time passes.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds; only differences are meaningful."""
        ...


class MonotonicClock:
    """The process's monotonic clock (``time.monotonic``), like Envoy's real TimeSource."""

    __slots__ = ()

    def now(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to: ``advance(s)`` or ``set(t)``."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back ({seconds} s)")
        self._now += seconds

    def set(self, when: float) -> None:
        """Jump to an absolute time (never backwards)."""
        if when < self._now:
            raise ValueError(f"a monotonic clock cannot go back (from {self._now} to {when})")
        self._now = float(when)
