"""Retry conditions, Istio's default policy and Envoy's backoff."""

from __future__ import annotations

import random

import pytest

from chaoskit.mesh.attempt import AttemptResult
from chaoskit.mesh.config import RetrySpec
from chaoskit.mesh.http.message import Headers, Response
from chaoskit.mesh.retry import (
    ISTIO_DEFAULT_RETRY_ON,
    JitteredExponentialBackoff,
    RetryDecision,
    RetryOutcome,
    backoff_delay,
    backoff_delays,
    backoff_interval_s,
    istio_default_retry_policy,
    parse_retry_on,
    should_retry,
)

# --- parsing retryOn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "conditions", "codes"),
    [
        ("5xx", ("5xx",), ()),
        ("gateway-error,connect-failure", ("gateway-error", "connect-failure"), ()),
        (
            "connect-failure,refused-stream,503, 504",
            ("connect-failure", "refused-stream", "retriable-status-codes"),
            (503, 504),
        ),
        ("503", ("retriable-status-codes",), (503,)),
        ("retriable-status-codes,409", ("retriable-status-codes",), (409,)),
        (" 5xx ,, reset ", ("5xx", "reset"), ()),
        (
            "unavailable,cancelled,deadline-exceeded",
            ("unavailable", "cancelled", "deadline-exceeded"),
            (),
        ),
        ("", (), ()),
    ],
)
def test_parse_retry_on(text: str, conditions: tuple[str, ...], codes: tuple[int, ...]) -> None:
    """Istio retry.go parseRetryOn: trimmed parts, known HTTP codes move to
    retriable_status_codes, and ConvertPolicy appends retriable-status-codes once."""
    assert parse_retry_on(text) == (conditions, codes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5xx,sometimes", "unknown retryOn condition 'sometimes'"),
        ("5XX", "unknown retryOn condition '5XX'"),  # Envoy's names are case-sensitive
        ("555", "'555' is not an HTTP status code"),  # Go's http.StatusText has no 555
        ("99", "'99' is not an HTTP status code"),
        ("-1", "unknown retryOn condition '-1'"),
    ],
)
def test_parse_retry_on_rejects_what_istio_rejects(text: str, message: str) -> None:
    """Istio validation.go: a part must be a supported policy or http.StatusText(i) != ""."""
    with pytest.raises(ValueError, match=message):
        parse_retry_on(text)


# --- Istio's default policy -------------------------------------------------------------------------


@pytest.mark.parametrize(("include_503", "codes"), [(False, ()), (True, (503,))])
def test_istio_default_policy(include_503: bool, codes: tuple[int, ...]) -> None:
    """retry.go DefaultPolicy: 2 retries, "connect-failure,refused-stream,unavailable,
    cancelled,retriable-status-codes", HostSelectionRetryMaxAttempts 5, previous_hosts;
    RetriableStatusCodes [503] unless Exclude503FromDefaultRetries (Istio ≥ 1.24)."""
    policy = istio_default_retry_policy(include_503)
    assert policy.num_retries == 2
    assert policy.retry_on == ISTIO_DEFAULT_RETRY_ON
    assert policy.retriable_status_codes == codes
    assert policy.host_selection_max_attempts == 5
    assert policy.retry_previous_hosts
    assert policy.backoff_base_s == 0.025
    assert should_retry(policy, RetryOutcome(status=503)) is include_503
    assert should_retry(policy, RetryOutcome(connect_failure=True, request_sent=False))
    assert not should_retry(policy, RetryOutcome(status=500))
    assert not should_retry(policy, RetryOutcome(per_try_timeout=True))
    assert not should_retry(policy, RetryOutcome(reset=True))


def test_consistent_hash_default_has_no_previous_hosts_predicate() -> None:
    """retry.go DefaultConsistentHashPolicy: the default without RetryHostPredicate."""
    policy = istio_default_retry_policy(False, consistent_hash=True)
    assert not policy.retry_previous_hosts
    assert policy.host_selection_max_attempts == 5


# --- conditions -----------------------------------------------------------------------------------

CONNECT = RetryOutcome(connect_failure=True, request_sent=False)
RESET = RetryOutcome(reset=True)
RESET_EARLY = RetryOutcome(reset=True, request_sent=False)
PER_TRY = RetryOutcome(per_try_timeout=True)
REFUSED = RetryOutcome(refused_stream=True)


def _status(code: int, **headers: str) -> RetryOutcome:
    return RetryOutcome(status=code, headers={k.replace("_", "-"): v for k, v in headers.items()})


@pytest.mark.parametrize(
    ("retry_on", "outcome", "expected"),
    [
        # 5xx: any 5xx response, and any reset, connect failure or per-try timeout.
        ("5xx", _status(503), True),
        ("5xx", _status(500), True),
        ("5xx", _status(404), False),
        ("5xx", RESET, True),
        ("5xx", CONNECT, True),
        ("5xx", PER_TRY, True),
        # gateway-error: 502/503/504, and resets the same way as 5xx.
        ("gateway-error", _status(502), True),
        ("gateway-error", _status(504), True),
        ("gateway-error", _status(500), False),
        ("gateway-error", PER_TRY, True),
        ("gateway-error", RESET, True),
        # connect-failure: only a failed connect.
        ("connect-failure", CONNECT, True),
        ("connect-failure", RESET, False),
        ("connect-failure", PER_TRY, False),
        ("connect-failure", _status(503), False),
        # reset: any reset, including connect failures and per-try timeouts.
        ("reset", RESET, True),
        ("reset", CONNECT, True),
        ("reset", PER_TRY, True),
        ("reset", _status(503), False),
        # reset-before-request: only if no byte went upstream.
        ("reset-before-request", RESET_EARLY, True),
        ("reset-before-request", CONNECT, True),
        ("reset-before-request", RESET, False),
        ("reset-before-request", PER_TRY, False),
        ("refused-stream", REFUSED, True),
        ("refused-stream", RESET, False),
        ("retriable-4xx", _status(409), True),
        ("retriable-4xx", _status(429), False),
        # x-envoy-ratelimited: only envoy-ratelimited retries it, even if it is a 5xx.
        ("5xx", _status(503, x_envoy_ratelimited="true"), False),
        ("envoy-ratelimited", _status(429, x_envoy_ratelimited="true"), True),
        ("envoy-ratelimited", _status(429), False),
        # gRPC conditions read grpc-status from the response headers.
        ("unavailable", _status(200, grpc_status="14"), True),
        ("cancelled", _status(200, grpc_status="1"), True),
        ("deadline-exceeded", _status(200, grpc_status="4"), True),
        ("resource-exhausted", _status(200, grpc_status="8"), True),
        ("internal", _status(200, grpc_status="13"), True),
        ("unavailable", _status(200, grpc_status="13"), False),
        ("unavailable", _status(503), False),
        # Never: a breaker overflow, a failed host pick, the route timeout.
        ("5xx,reset,connect-failure", RetryOutcome(overflow=True), False),
        ("5xx,reset,connect-failure", RetryOutcome(no_healthy_upstream=True), False),
        ("5xx,reset", RetryOutcome(overall_timeout=True), False),
    ],
)
def test_envoy_retry_conditions(retry_on: str, outcome: RetryOutcome, expected: bool) -> None:
    """retry_state_impl.cc wouldRetryFromHeaders / wouldRetryFromReset; router.cc
    onPerTryTimeoutCommon (LocalReset after the request went out) and onResponseTimeout."""
    conditions, codes = parse_retry_on(retry_on)
    spec = RetrySpec(num_retries=3, retry_on=conditions, retriable_status_codes=codes)
    assert should_retry(spec, outcome) is expected


def test_retriable_status_codes_and_headers() -> None:
    """RETRY_ON_RETRIABLE_STATUS_CODES / RETRY_ON_RETRIABLE_HEADERS."""
    spec = RetrySpec(
        num_retries=1,
        retry_on=("retriable-status-codes", "retriable-headers"),
        retriable_status_codes=(418,),
        retriable_header_names=("x-try-again",),
    )
    assert should_retry(spec, _status(418))
    assert not should_retry(spec, _status(503))
    assert should_retry(spec, _status(200, x_try_again="1"))


def test_no_policy_never_retries() -> None:
    assert should_retry(None, CONNECT) is False


def test_the_data_planes_attempt_results() -> None:
    """router.py passes AttemptResult and expects a RetryDecision."""
    spec = RetrySpec(num_retries=2, retry_on=("gateway-error",))
    retried = AttemptResult(response=Response(503, Headers()))
    limited = AttemptResult(response=Response(503, Headers([("x-envoy-ratelimited", "true")])))
    assert should_retry(spec, retried) is RetryDecision.RETRY
    assert should_retry(spec, limited) is RetryDecision.NO
    assert should_retry(spec, AttemptResult(failure="timeout")) is RetryDecision.RETRY
    assert should_retry(spec, AttemptResult(failure="overflow")) is RetryDecision.NO
    assert should_retry(spec, AttemptResult(failure="no_healthy")) is RetryDecision.NO
    assert should_retry(None, AttemptResult(failure="connect")) is RetryDecision.NO


# --- backoff ----------------------------------------------------------------------------------------


def test_backoff_intervals_double_up_to_ten_times_base() -> None:
    """JitteredExponentialBackOffStrategy: next = 2 × next while next < max/2, else max;
    retry_state_impl.cc: base 25 ms, max 10 × base by default."""
    intervals = [backoff_interval_s(n, 0.025) for n in range(1, 8)]
    assert intervals == [0.025, 0.05, 0.1, 0.2, 0.25, 0.25, 0.25]
    assert [backoff_interval_s(n, 0.025, 1.0) for n in range(1, 8)] == [
        0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0,
    ]  # fmt: skip


def test_backoff_delays_stay_in_their_interval_and_cover_it() -> None:
    """nextBackOffMs: random() % interval — whole ms in [0, interval)."""
    rng = random.Random(12)
    samples: list[list[float]] = [[] for _ in range(6)]
    for _ in range(2_000):
        for n, delay in zip(range(6), backoff_delays(0.025, rng=rng), strict=False):
            samples[n].append(delay)
    for n, delays in enumerate(samples, start=1):
        bound = backoff_interval_s(n, 0.025)
        assert all(0 <= d < bound for d in delays)
        assert all(round(d * 1000) == d * 1000 for d in delays[:50])  # whole milliseconds
        # Uniform: the mean is about (bound - 1 ms) / 2; sd of the mean < 2 % of the bound.
        mean = sum(delays) / len(delays)
        assert abs(mean - (bound - 0.001) / 2) < 0.1 * bound
        assert max(delays) >= 0.9 * bound


def test_backoff_strategy_reset_and_validation() -> None:
    """reset() restarts at the base; a max below the base is refused (proto validation)."""
    strategy = JitteredExponentialBackoff(0.1, None, random.Random(1))
    for _ in range(5):
        strategy.next_delay()
    strategy.reset()
    assert strategy.next_delay() < 0.1
    with pytest.raises(ValueError, match="maximum"):
        JitteredExponentialBackoff(0.1, 0.05, random.Random(1))


def test_single_backoff_delay_matches_the_strategy() -> None:
    """backoff_delay(n) draws from retry n's interval without keeping state."""
    rng = random.Random(3)
    assert all(0 <= backoff_delay(4, 0.025, rng) < 0.2 for _ in range(500))
    assert all(0 <= backoff_delay(1, 0.025, rng) < 0.025 for _ in range(500))
