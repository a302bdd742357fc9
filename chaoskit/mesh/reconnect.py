"""Keep the push channel up: reconnect with jittered exponential backoff, as Envoy does.

Envoy re-establishes its xDS stream to istiod after every remote close, waiting a jittered
back-off first: base 500 ms, at most 30 s (``RetryInitialDelayMs``/``RetryMaxDelayMs`` in
envoy/config/subscription_factory.h, commit 0bd17f59), each wait drawn uniformly below an
interval that doubles per failure (JitteredExponentialBackOffStrategy,
source/common/common/backoff_strategy.cc), and the back-off starts afresh once a message
arrives on the new stream (``onReceiveMessage`` in
source/extensions/config_subscription/grpc/grpc_stream.h, commit 032e1257).

A dropped channel is never a reason to exit: the pod leaves only when the mesh stops, which
it learns from an explicit ``shutdown`` message or from its parent's death (see pod.py).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

BASE_INTERVAL_S = 0.5
MAX_INTERVAL_S = 30.0


@dataclass(slots=True)
class Backoff:
    """Envoy's jittered exponential back-off; ``rng`` is injected for reproducible tests."""

    rng: random.Random
    base_s: float = BASE_INTERVAL_S
    max_s: float = MAX_INTERVAL_S
    _interval_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.max_s:
            raise ValueError(f"back-off base {self.base_s}s must be > 0 and ≤ max {self.max_s}s")
        self._interval_s = self.base_s

    def next_delay(self) -> float:
        """The wait before the next attempt, uniform in [0, interval); then double it."""
        delay = self.rng.random() * self._interval_s
        self._interval_s = min(self._interval_s * 2, self.max_s)
        return delay

    def reset(self) -> None:
        self._interval_s = self.base_s


async def keep_connected(
    session: Callable[[Callable[[], None]], Awaitable[bool]],
    *,
    backoff: Backoff,
    sleep: Callable[[float], Awaitable[None]],
    on_retry: Callable[[float, BaseException | None], None] | None = None,
) -> None:
    """Run ``session`` until it says the mesh is stopping; reconnect after every drop.

    ``session(progress)`` runs one connection. It calls ``progress()`` whenever a message
    arrives (which resets the back-off, as Envoy does) and returns True when told to shut
    down, False when the channel closed; connection errors and unreadable messages count as
    a close (Envoy, too, resets a stream it cannot decode and opens a new one).
    """
    while True:
        error: BaseException | None = None
        try:
            if await session(backoff.reset):
                return
        except (OSError, ValueError) as exc:  # refused, reset, or a message we cannot read
            error = exc
        delay = backoff.next_delay()
        if on_retry is not None:
            on_retry(delay, error)
        await sleep(delay)
