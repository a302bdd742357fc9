"""Envoy's retry policy as Istio configures it: conditions, the default policy, backoff.

Sources: Istio ``pilot/pkg/networking/core/route/retry/retry.go`` (default policy,
``parseRetryOn``), ``pkg/config/validation`` (accepted conditions); Envoy
``source/common/router/retry_state_impl.cc`` (``wouldRetryFromHeaders``,
``wouldRetryFromReset``), ``router.cc`` (what counts as a reset) and
``source/common/common/backoff_strategy.cc`` (``JitteredExponentialBackOffStrategy``).

What the router must do itself: never retry an injected fault (the fault filter answers
before the router) or a route (global) timeout, count ``upstream_rq_retry*`` stats, take a
slot from the cluster's ``max_retries`` breaker per retry, and honour request headers such
as ``x-envoy-retriable-status-codes`` and ``x-envoy-max-retries``.
"""

from __future__ import annotations

import enum
import random
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import overload

from chaoskit.mesh.attempt import AttemptResult
from chaoskit.mesh.config import RetrySpec
from chaoskit.mesh.http.message import Headers

# Conditions Istio's validation accepts in retryOn (Envoy's x-envoy-retry-on values plus
# the x-envoy-retry-grpc-on ones).
CONDITIONS = frozenset(
    {
        "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
        "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
        "envoy-ratelimited", "http3-post-connect-failure",
        "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
    }
)  # fmt: skip
# gRPC conditions → the grpc-status code they retry (Envoy reads it from response headers,
# i.e. trailers-only responses).
GRPC_CONDITIONS: Mapping[str, int] = types.MappingProxyType(
    {
        "cancelled": 1,
        "deadline-exceeded": 4,
        "resource-exhausted": 8,
        "internal": 13,
        "unavailable": 14,
    }
)
ISTIO_DEFAULT_RETRY_ON = (
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
    "retriable-status-codes",
)
GATEWAY_ERRORS = frozenset({502, 503, 504})
# Codes Go's http.StatusText knows: Istio's parseRetryOn treats only these as status codes.
HTTP_STATUS_CODES = frozenset(
    (
        *range(100, 104), *range(200, 209), 226, *range(300, 306), 307, 308, *range(400, 419),
        *range(421, 427), 428, 429, 431, 451, *range(500, 509), 510, 511,
    )
)  # fmt: skip
DEFAULT_BACKOFF_BASE_S = 0.025  # runtime upstream.base_retry_backoff_ms


def parse_retry_on(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Istio's ``retryOn``: Envoy conditions, and HTTP status codes moved to their own list.

    Like Istio's ``parseRetryOn``, parts are trimmed, empty parts skipped, known HTTP codes
    become retriable status codes and ``retriable-status-codes`` is added when any code is
    given. Raises ValueError for what Istio's validation rejects.
    """
    conditions: list[str] = []
    codes: list[int] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item.isdigit():
            code = int(item)
            if code not in HTTP_STATUS_CODES:
                raise ValueError(
                    f"retryOn {item!r} is not an HTTP status code Istio knows "
                    "(Go's http.StatusText), so it is not a valid retryOn policy"
                )
            codes.append(code)
        elif item in CONDITIONS:
            conditions.append(item)
        else:
            raise ValueError(
                f"unknown retryOn condition {item!r}; use Envoy's conditions "
                f"({', '.join(sorted(CONDITIONS))}) or HTTP status codes"
            )
    if codes and "retriable-status-codes" not in conditions:
        conditions.append("retriable-status-codes")
    return tuple(conditions), tuple(codes)


def istio_default_retry_policy(include_503: bool, *, consistent_hash: bool = False) -> RetrySpec:
    """What Istio puts on a route without ``retries`` (retry.go ``DefaultPolicy``).

    2 retries on connect-failure, refused-stream, gRPC unavailable/cancelled and
    retriable-status-codes, 5 host selection attempts, 25 ms backoff. ``include_503`` is
    Istio ≤ 1.23: ``retriable_status_codes: [503]`` (EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY
    turned it off in 1.24). With consistent hashing there is no previous_hosts predicate.
    """
    return RetrySpec(
        num_retries=2,
        retry_on=ISTIO_DEFAULT_RETRY_ON,
        retriable_status_codes=(503,) if include_503 else (),
        backoff_base_s=DEFAULT_BACKOFF_BASE_S,
        retry_previous_hosts=not consistent_hash,
        host_selection_max_attempts=5,
    )


# Request headers Envoy's router reads for the retry state and never forwards.
RETRY_REQUEST_HEADERS = (
    "x-envoy-retry-on",
    "x-envoy-retry-grpc-on",
    "x-envoy-max-retries",
    "x-envoy-retriable-status-codes",
)
_RETRY_REQUEST_NAMES = frozenset(RETRY_REQUEST_HEADERS)


def _tokens(value: str | None) -> list[str]:
    return [t.strip() for t in (value or "").split(",") if t.strip()]


def with_request_headers(spec: RetrySpec | None, headers: Headers) -> RetrySpec | None:
    """The route's policy merged with the caller's ``x-envoy-*`` retry headers, which are
    then removed from the request (``RetryStateImpl::create`` and its constructor,
    envoyproxy/envoy source/common/router/retry_state_impl.cc, commit 001b1c0c).

    ``x-envoy-retry-on`` (and ``-grpc-on``) add conditions, and enable retries on a route
    without a policy (Envoy's default of one retry); ``x-envoy-max-retries`` replaces the
    retry count once any condition is on; ``x-envoy-retriable-status-codes`` adds codes.
    Unknown tokens are ignored, as Envoy does.
    """
    # One scan for the common case of none of these headers (every request crosses here):
    # the route's policy as it is (its conditions are only ever tested for membership).
    for name, _ in headers:
        if name in _RETRY_REQUEST_NAMES:
            break
    else:
        return spec
    added = [
        t
        for name in ("x-envoy-retry-on", "x-envoy-retry-grpc-on")
        for t in _tokens(headers.get(name))
        if t in CONDITIONS
    ]
    max_retries = (headers.get("x-envoy-max-retries") or "").strip()
    codes = [int(t) for t in _tokens(headers.get("x-envoy-retriable-status-codes")) if t.isdigit()]
    headers.remove_all(_RETRY_REQUEST_NAMES)
    if spec is None:
        if not added:
            return None
        # A route without a retry policy: Envoy's RetryPolicyImpl defaults (1 retry, no
        # host predicate, no re-picks).
        spec = RetrySpec(
            num_retries=1, retry_on=(), retry_previous_hosts=False, host_selection_max_attempts=0
        )
    conditions = tuple(dict.fromkeys((*spec.retry_on, *added)))
    num_retries = spec.num_retries
    if conditions and max_retries.isdigit():
        num_retries = int(max_retries)
    if conditions == spec.retry_on and num_retries == spec.num_retries and not codes:
        return spec
    return replace(
        spec,
        retry_on=conditions,
        num_retries=num_retries,
        retriable_status_codes=(*spec.retriable_status_codes, *codes),
    )


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """How one upstream attempt ended, as Envoy's retry state sees it.

    ``status``/``headers`` when response headers arrived; otherwise one of the failure
    flags. ``request_sent`` is false when no byte reached the upstream (what
    ``reset-before-request`` checks). ``overflow`` is a circuit-breaker rejection and
    ``no_healthy_upstream`` a failed host pick: neither is ever retried.
    """

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    reset: bool = False
    connect_failure: bool = False
    refused_stream: bool = False
    per_try_timeout: bool = False
    overall_timeout: bool = False
    overflow: bool = False
    no_healthy_upstream: bool = False
    request_sent: bool = True


class RetryDecision(enum.Enum):
    """The data plane's name for the answer (router.py compares with ``RETRY``)."""

    NO = "no"
    RETRY = "retry"


def _would_retry_headers(
    spec: RetrySpec, headers: Mapping[str, str] | Headers, status: int
) -> bool:
    on = spec.retry_on
    # x-envoy-ratelimited comes from an upstream Envoy: retried only under envoy-ratelimited.
    if "x-envoy-ratelimited" in headers:
        return "envoy-ratelimited" in on
    if "5xx" in on and 500 <= status <= 599:
        return True
    if "gateway-error" in on and status in GATEWAY_ERRORS:
        return True
    if "retriable-4xx" in on and status == 409:
        return True
    if "retriable-status-codes" in on and status in spec.retriable_status_codes:
        return True
    if "retriable-headers" in on and any(name in headers for name in spec.retriable_header_names):
        return True
    grpc_status = headers.get("grpc-status") or ""
    if grpc_status.isdigit():
        code = int(grpc_status)
        if any(GRPC_CONDITIONS.get(c) == code for c in on):
            return True
    return False


def _would_retry_reset(spec: RetrySpec, outcome: RetryOutcome) -> bool:
    on = spec.retry_on
    if outcome.connect_failure and "connect-failure" in on:
        return True
    if "reset-before-request" in on and not outcome.request_sent:
        return True
    if "reset" in on or "5xx" in on or "gateway-error" in on:
        # Envoy counts any upstream reset (and a per-try timeout) as a 5xx.
        return True
    return outcome.refused_stream and "refused-stream" in on


def would_retry(spec: RetrySpec, outcome: RetryOutcome) -> bool:
    """Envoy's ``wouldRetryFromHeaders`` / ``wouldRetryFromReset`` for one attempt."""
    if outcome.overflow or outcome.no_healthy_upstream or outcome.overall_timeout:
        # Overflow resets are never retried; the route timeout ends the request
        # (onResponseTimeout); a failed host pick answers 503 UH at once.
        return False
    if outcome.status is not None:
        return _would_retry_headers(spec, outcome.headers, outcome.status)
    if outcome.per_try_timeout:
        # onPerTryTimeoutCommon → maybeRetryReset(LocalReset) after the request went out.
        return _would_retry_reset(spec, outcome)
    if outcome.connect_failure or outcome.reset or outcome.refused_stream:
        return _would_retry_reset(spec, outcome)
    return False


def outcome_of(result: AttemptResult) -> RetryOutcome:
    """The data plane's :class:`AttemptResult` as a :class:`RetryOutcome`."""
    if result.response is not None:
        return RetryOutcome(status=result.status, headers=result.response.headers.as_dict())
    failure = result.failure
    return RetryOutcome(
        connect_failure=failure == "connect",
        request_sent=failure != "connect",
        reset=failure == "reset",
        per_try_timeout=failure == "timeout",
        overflow=failure == "overflow",
        no_healthy_upstream=failure == "no_healthy",
    )


@overload
def should_retry(spec: RetrySpec | None, outcome: RetryOutcome) -> bool: ...


@overload
def should_retry(spec: RetrySpec | None, outcome: AttemptResult) -> RetryDecision: ...


def should_retry(
    spec: RetrySpec | None, outcome: RetryOutcome | AttemptResult
) -> bool | RetryDecision:
    """Whether Envoy would retry this attempt (retry limits are the router's business).

    With a :class:`RetryOutcome` the answer is a bool; with the data plane's
    :class:`AttemptResult` it is a :class:`RetryDecision`, as ``router.py`` expects.
    """
    if isinstance(outcome, AttemptResult):
        response = outcome.response
        if spec is None:
            retry = False
        elif response is not None:
            # A response's headers are read in place (outcome_of copies them into a dict).
            retry = _would_retry_headers(spec, response.headers, response.status)
        else:
            retry = would_retry(spec, outcome_of(outcome))
        return RetryDecision.RETRY if retry else RetryDecision.NO
    return spec is not None and would_retry(spec, outcome)


def _ms(seconds: float) -> int:
    # Envoy keeps backoff intervals in whole milliseconds, at least 1.
    return max(1, round(seconds * 1000))


class JitteredExponentialBackoff:
    """Envoy's ``JitteredExponentialBackOffStrategy`` as the router's retry state uses it.

    Retry n (from 1) waits uniformly in [0, min(base × 2^(n-1), max)) whole milliseconds:
    the interval doubles until doubling would pass half the maximum, then it is the
    maximum. The maximum defaults to 10 × base (retry_state_impl.cc). With base 25 ms:
    [0, 25), [0, 50), [0, 100), [0, 200), then [0, 250) ms.
    """

    def __init__(self, base_s: float, max_s: float | None, rng: random.Random) -> None:
        self.base_ms = _ms(base_s)
        self.max_ms = _ms(max_s) if max_s is not None else 10 * self.base_ms
        if self.max_ms < self.base_ms:
            raise ValueError("the backoff maximum must not be below its base interval")
        self._rng = rng
        self._next_ms = self.base_ms

    def next_delay(self) -> float:
        interval = self._next_ms
        doubling_limit = self.max_ms // 2
        self._next_ms = interval * 2 if interval < doubling_limit else self.max_ms
        return self._rng.randrange(interval) / 1000

    def reset(self) -> None:
        self._next_ms = self.base_ms


def backoff_delays(
    base_s: float = DEFAULT_BACKOFF_BASE_S, max_s: float | None = None, *, rng: random.Random
) -> Iterator[float]:
    """The waits before retry 1, 2, 3, … (endless) for one request, in seconds."""
    strategy = JitteredExponentialBackoff(base_s, max_s, rng)
    while True:
        yield strategy.next_delay()


def backoff_interval_s(retry_number: int, base_s: float, max_s: float | None = None) -> float:
    """The (exclusive) upper bound of retry ``retry_number``'s wait (from 1), in seconds."""
    base = _ms(base_s)
    cap = _ms(max_s) if max_s is not None else 10 * base
    interval = base
    for _ in range(max(0, retry_number - 1)):
        interval = interval * 2 if interval < cap // 2 else cap
    return interval / 1000


def backoff_delay(
    retry_number: int, base_s: float, rng: random.Random, max_s: float | None = None
) -> float:
    """One wait for retry ``retry_number`` (from 1), without keeping a strategy around."""
    return rng.randrange(round(backoff_interval_s(retry_number, base_s, max_s) * 1000)) / 1000
