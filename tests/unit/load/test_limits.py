"""The load worker's open-file limit: raised when it may be, a clear error when it may not."""

from __future__ import annotations

import resource

import pytest

from chaoskit.load.limits import (
    RESERVE,
    TooFewOpenFiles,
    ensure_open_files,
    open_files_needed,
)
from chaoskit.load.profile import LoadProfile


class FakeLimits:
    def __init__(self, soft: int, hard: int) -> None:
        self.limits = (soft, hard)

    def get(self, which: int) -> tuple[int, int]:
        assert which == resource.RLIMIT_NOFILE
        return self.limits

    def set(self, which: int, limits: tuple[int, int]) -> None:
        assert which == resource.RLIMIT_NOFILE
        self.limits = limits


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> FakeLimits:
    fake = FakeLimits(1024, 4096)
    monkeypatch.setattr(resource, "getrlimit", fake.get)
    monkeypatch.setattr(resource, "setrlimit", fake.set)
    return fake


def test_the_canary_flood_needs_more_than_the_usual_soft_limit() -> None:
    flood = LoadProfile.build("http://127.0.0.1:9", users=1400, duration="4s")
    assert open_files_needed(flood) == 1400 + RESERVE > 1024
    dealt = LoadProfile.build(
        "http://127.0.0.1:9", users=1400, duration="4s", processes=4, distributed=True
    )
    assert open_files_needed(dealt) == 350 + RESERVE
    paced = LoadProfile.build("http://127.0.0.1:9", model="open", rate=100.0, duration="4s")
    assert open_files_needed(paced) == paced.max_in_flight + RESERVE


def test_the_soft_limit_is_raised_up_to_the_hard_one(limits: FakeLimits) -> None:
    assert ensure_open_files(1464) == 1464
    assert limits.limits == (1464, 4096)
    assert ensure_open_files(100) == 1464  # already enough: left alone
    assert limits.limits == (1464, 4096)


def test_a_hard_limit_too_low_is_a_clear_error(limits: FakeLimits) -> None:
    limits.limits = (1024, 1024)
    with pytest.raises(
        TooFewOpenFiles, match=r"needs about 1464 open files.*at most 1024.*ulimit -n 1464"
    ):
        ensure_open_files(1464)
    assert limits.limits == (1024, 1024)


def test_an_unlimited_hard_limit_allows_any_soft_one(limits: FakeLimits) -> None:
    limits.limits = (1024, resource.RLIM_INFINITY)
    assert ensure_open_files(50_000) == 50_000
