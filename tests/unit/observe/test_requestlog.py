"""Gremlin-style checks on the callers' access-log records."""

from __future__ import annotations

import pytest

from chaoskit.assertions import Inconclusive
from chaoskit.observe import RequestLog
from chaoskit.stats import Judgement


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
    with pytest.raises(
        AssertionError,
        match=r"most tries by one call to ratings\.bookinfo 4 \(n=3\) ≤ 3: FAIL "
        r"\(retries\.attempts=2 allows 3\)",
    ):
        log.assert_retries_bounded(2)


def test_per_try_timeouts_are_honoured() -> None:
    ok = RequestLog("ratings.bookinfo", [entry(1, 3010), entry(2, 6100)])
    ok.assert_per_try_timeout(3.0)
    slow = RequestLog("ratings.bookinfo", [entry(1, 20000)])
    with pytest.raises(
        AssertionError,
        match=r"calls over tries × perTryTimeout to ratings\.bookinfo 1 \(n=1\) ≤ 0: FAIL "
        r"\(one took 20.00s over 1 tries; perTryTimeout 3s allows 3.50s\)",
    ):
        slow.assert_per_try_timeout(3.0)


def test_breaker_trips_are_counted_from_uo_flags() -> None:
    log = RequestLog("my-service.default", [entry(flags="UO", code=503)] * 30 + [entry()] * 70)
    assert log.assert_breaker_tripped() == 30
    assert log.share(flag="UO").rate == 0.3
    assert log.flags() == {"UO": 30, "-": 70}
    with pytest.raises(AssertionError, match=r"shed by the circuit breaker \(UO\) to x 0 \(n=1\)"):
        RequestLog("x", [entry()]).assert_breaker_tripped()


def test_an_empty_log_is_never_a_pass() -> None:
    with pytest.raises(Inconclusive, match=r"no call to ratings\.bookinfo was logged"):
        RequestLog("ratings.bookinfo", [], "w").assert_retries_bounded(3)


class Sink:
    def __init__(self) -> None:
        self.judgements: list[tuple[str, Judgement]] = []

    def add_judgement(
        self, window: str, judgement: Judgement, predicted: object = None, hint: str = ""
    ) -> None:
        self.judgements.append((window, judgement))


def test_each_check_is_recorded_as_evidence() -> None:
    """Passing request-log checks show in the report's evidence like statistical ones."""
    sink = Sink()
    log = RequestLog("ratings.bookinfo", [entry(1), entry(3, flags="UO")], "w", sink)
    log.assert_retried()
    log.assert_retries_bounded(2)
    log.assert_breaker_tripped()
    log.assert_per_try_timeout(3.0)
    assert [(w, j.verdict.value) for w, j in sink.judgements] == [("w", "PASS")] * 4
    assert sink.judgements[1][1].explain() == (
        "most tries by one call to ratings.bookinfo 3 (n=2) ≤ 3: PASS (retries.attempts=2 allows 3)"
    )


def test_errors_per_ejected_host_are_counted_from_the_upstream_host() -> None:
    def call(host: str, code: int) -> dict:  # type: ignore[type-arg]
        return {**entry(code=code), "upstream_host": host}

    records = [call("10.0.0.1:80", 503)] * 5 + [call("10.0.0.2:80", 503)] * 40
    records += [call("10.0.0.1:80", 200)] * 9 + [call("10.0.0.3:80", 503)] * 7
    log = RequestLog("my-service.default", records)
    # 10.0.0.2 was never ejected: its errors do not count against the detector.
    assert log.assert_host_errors_at_most({"10.0.0.1:80", "10.0.0.3:80"}, 7) == 7
    with pytest.raises(AssertionError, match=r"most 5xx from one ejected host of .* 7 .*≤ 6: FAIL"):
        log.assert_host_errors_at_most({"10.0.0.1:80", "10.0.0.3:80"}, 6)
    with pytest.raises(Inconclusive, match="no host was ejected"):
        log.assert_host_errors_at_most(set(), 6)
