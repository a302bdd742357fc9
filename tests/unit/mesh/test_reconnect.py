"""The push channel's reconnect loop, on an injected clock: Envoy's jittered back-off."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from chaoskit.mesh.reconnect import BASE_INTERVAL_S, MAX_INTERVAL_S, Backoff, keep_connected


@dataclass
class FakeClock:
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class ScriptedControlPlane:
    """Each session plays one step: "refused", "drop" (closes after a message), "stop"."""

    script: list[str]
    clock: FakeClock
    attempts: list[float] = field(default_factory=list)

    async def session(self, progress: Callable[[], None]) -> bool:
        self.attempts.append(self.clock.now)
        step = self.script[len(self.attempts) - 1]
        if step == "refused":
            raise ConnectionRefusedError(111, "Connection refused")
        if step == "garbled":
            raise ValueError("xds message is not an object")
        if step == "silent-close":
            return False  # closed before sending anything
        progress()  # a snapshot arrived
        return step == "stop"


def run(script: list[str], seed: int = 7) -> tuple[ScriptedControlPlane, FakeClock]:
    clock = FakeClock()
    plane = ScriptedControlPlane(script, clock)
    backoff = Backoff(random.Random(seed))
    asyncio.run(keep_connected(plane.session, backoff=backoff, sleep=clock.sleep))
    return plane, clock


def test_a_drop_is_retried_and_only_shutdown_ends_the_loop() -> None:
    plane, clock = run(["drop", "refused", "garbled", "drop", "stop"])
    assert len(plane.attempts) == 5  # four reconnects, then the explicit shutdown
    assert len(clock.sleeps) == 4
    # every reconnect waited its back-off first
    assert plane.attempts == [0.0, *(sum(clock.sleeps[: i + 1]) for i in range(4))]


def test_failed_attempts_wait_below_a_doubling_interval_capped_at_30s() -> None:
    failures = 14
    _, clock = run(["drop"] + ["refused"] * failures + ["stop"])
    assert len(clock.sleeps) == failures + 1
    # after "drop" (a message arrived, so the back-off was reset) the waits are jittered
    # below 0.5 s, 1 s, 2 s, ... doubling per failure, never beyond 30 s
    bounds = [min(BASE_INTERVAL_S * 2**k, MAX_INTERVAL_S) for k in range(failures + 1)]
    assert all(0 <= wait < bound for wait, bound in zip(clock.sleeps, bounds, strict=True))
    assert bounds[-1] == MAX_INTERVAL_S  # the cap was reached within the script
    assert len(set(clock.sleeps)) == len(clock.sleeps)  # jittered, not a fixed schedule


def test_a_message_on_the_new_channel_resets_the_back_off() -> None:
    script = ["silent-close"] * 8 + ["drop"] + ["stop"]
    _, clock = run(script)
    # eight closes without a message: the interval grew to 0.5·2^8 s; the message on the
    # ninth channel reset it, so the wait after that drop is below the base interval again
    assert len(clock.sleeps) == 9
    assert clock.sleeps[-1] < BASE_INTERVAL_S


def test_jitter_spreads_pods_that_lost_the_channel_together() -> None:
    """Two hundred pods dropped at one instant do not all come back at one instant."""
    first_waits = [
        Backoff(random.Random(f"backoff:default/pod-{i}")).next_delay() for i in range(200)
    ]
    assert all(0 <= w < BASE_INTERVAL_S for w in first_waits)
    # spread over the whole interval: each tenth of it holds some of the 200 pods
    buckets = {int(w / BASE_INTERVAL_S * 10) for w in first_waits}
    assert buckets == set(range(10))


def test_backoff_rejects_a_base_above_its_cap() -> None:
    with pytest.raises(ValueError, match=r"base 40\.0s must be > 0 and ≤ max 30\.0s"):
        Backoff(random.Random(0), base_s=40.0)
