"""Envoy's retry policy as Istio configures it: conditions, default policy, backoff.

Sources: Envoy router filter docs (x-envoy-retry-on, x-envoy-max-retries), Istio's
pilot/pkg/networking/core/route/retry/retry.go, istio-semantics §1.6 and §7.
"""

from __future__ import annotations

import enum
import random

from chaoskit.mesh.attempt import AttemptResult
from chaoskit.mesh.config import RetrySpec

# Conditions Envoy accepts in retry_on (HTTP and gRPC).
CONDITIONS = frozenset(
    {
        "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
        "refused-stream", "retriable-4xx", "retriable-status-codes", "retriable-headers",
        "envoy-ratelimited", "http3-post-connect-failure",
        "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
    }
)  # fmt: skip
ISTIO_DEFAULT_RETRY_ON = (
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
    "retriable-status-codes",
)
_GATEWAY_ERRORS = frozenset({502, 503, 504})


def parse_retry_on(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Istio's ``retryOn``: Envoy conditions, with bare integers as retriable status codes.

    Raises:
        ValueError: naming the condition Envoy does not know.
    """
    conditions: list[str] = []
    codes: list[int] = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        if item.isdigit():
            codes.append(int(item))
        elif item in CONDITIONS:
            conditions.append(item)
        else:
            raise ValueError(
                f"unknown retryOn condition {item!r}; use Envoy's conditions "
                f"({', '.join(sorted(CONDITIONS))}) or HTTP status codes"
            )
    # Istio adds retriable-status-codes when the list names codes.
    if codes and "retriable-status-codes" not in conditions:
        conditions.append("retriable-status-codes")
    return tuple(conditions), tuple(codes)


def istio_default_retry_policy(include_503: bool) -> RetrySpec:
    """What Istio puts on every route with no ``retries``: 2 retries, 25 ms backoff.

    ``include_503`` is Istio ≤ 1.23 (before EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY).
    """
    return RetrySpec(
        num_retries=2,
        retry_on=ISTIO_DEFAULT_RETRY_ON,
        retriable_status_codes=(503,) if include_503 else (),
    )


class RetryDecision(enum.Enum):
    NO = "no"
    RETRY = "retry"


def should_retry(spec: RetrySpec | None, result: AttemptResult) -> RetryDecision:
    """Whether Envoy's retry state would retry this attempt's outcome."""
    if spec is None or result.failure in ("overflow", "no_healthy"):
        # A breaker overflow or no healthy host never reached an upstream: not retried.
        return RetryDecision.NO
    on = spec.retry_on
    failure, status = result.failure, result.status
    if failure == "connect":
        retriable = any(c in on for c in ("connect-failure", "5xx", "gateway-error", "reset"))
    elif failure == "reset":
        retriable = "5xx" in on or "reset" in on
    elif failure == "timeout":
        # A per-try timeout counts as 5xx / gateway-error / reset, not as connect-failure.
        retriable = any(c in on for c in ("5xx", "gateway-error", "reset"))
    elif status is not None:
        retriable = (
            ("5xx" in on and status >= 500)
            or ("gateway-error" in on and status in _GATEWAY_ERRORS)
            or ("retriable-4xx" in on and status == 409)
            or ("retriable-status-codes" in on and status in spec.retriable_status_codes)
        )
    else:
        retriable = False
    return RetryDecision.RETRY if retriable else RetryDecision.NO


def backoff_delay(retry_number: int, base_s: float, rng: random.Random) -> float:
    """Envoy's fully jittered exponential backoff: uniform in [0, (2^n - 1) x base), ≤ 10 x base."""
    ceiling = min(base_s * (2**retry_number - 1), 10 * base_s)
    return rng.uniform(0, ceiling)
