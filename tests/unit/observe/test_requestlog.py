"""Gremlin-style checks on the callers' access-log records."""

from __future__ import annotations

import pytest

from chaoskit.observe import RequestLog


def entry(attempts: int = 1, duration_ms: int = 5, flags: str = "-", code: int = 200) -> dict:  # type: ignore[type-arg]
    return {
        "attempts": attempts,
        "duration_ms": duration_ms,
        "response_flags": flags,
        "response_code": code,
    }


def test_retries_are_bounded_by_the_policy() -> None:
    log = RequestLog("ratings.bookinfo", [entry(1), entry(3), entry(4)])
    assert log.assert_retries_bounded(3) == 4
    assert log.assert_retried() == 2
    with pytest.raises(AssertionError, match=r"made 4 tries; retries\.attempts=2 allows 3"):
        log.assert_retries_bounded(2)


def test_per_try_timeouts_are_honoured() -> None:
    ok = RequestLog("ratings.bookinfo", [entry(1, 3010), entry(2, 6100)])
    ok.assert_per_try_timeout(3.0)
    slow = RequestLog("ratings.bookinfo", [entry(1, 20000)])
    with pytest.raises(
        AssertionError, match=r"took 20.00s over 1 tries; perTryTimeout 3s allows 3.50s"
    ):
        slow.assert_per_try_timeout(3.0)


def test_breaker_trips_are_counted_from_uo_flags() -> None:
    log = RequestLog("my-service.default", [entry(flags="UO", code=503)] * 30 + [entry()] * 70)
    assert log.assert_breaker_tripped() == 30
    assert log.share(flag="UO").rate == 0.3
    assert log.flags() == {"UO": 30, "-": 70}
    with pytest.raises(AssertionError, match="never tripped"):
        RequestLog("x", [entry()]).assert_breaker_tripped()


def test_an_empty_log_is_never_a_pass() -> None:
    with pytest.raises(AssertionError, match=r"no call to ratings\.bookinfo was logged"):
        RequestLog("ratings.bookinfo", [], "w").assert_retries_bounded(3)
