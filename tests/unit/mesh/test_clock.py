"""The injected clocks."""

from __future__ import annotations

import pytest

from chaoskit.mesh.clock import Clock, FakeClock, MonotonicClock


def test_fake_clock_moves_only_when_told() -> None:
    """Envoy's tests use SimulatedTimeSystem; a FakeClock is the same seam for ours."""
    clock: Clock = FakeClock(5.0)
    assert clock.now() == 5.0
    assert isinstance(clock, FakeClock)
    clock.advance(2.5)
    clock.set(10.0)
    assert clock.now() == 10.0
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1.0)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(9.0)


def test_monotonic_clock_never_goes_back() -> None:
    """MonotonicClock reads time.monotonic (Envoy's TimeSource::monotonicTime)."""
    clock = MonotonicClock()
    first = clock.now()
    assert clock.now() >= first
