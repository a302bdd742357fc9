"""Run-time behaviour a demo app can be told: latency distribution and error rate.

Settings (camelCase, as in the mesh spec and pod annotations)::

    latency: 20ms                                  # fixed
    latency: {distribution: uniform, min: 5ms, max: 50ms}
    latency: {distribution: exponential, mean: 20ms}
    latency: {distribution: normal, mean: 50ms, stddev: 10ms}
    latency: {distribution: quantiles, p50: 4ms, p90: 9ms, p99: 30ms}
    errorRate: 0.2         # share of requests answered with errorStatus (0..1)
    errorStatus: 503
    errorCodes: {"503": 0.01, "500": 0.002}   # instead of errorRate/errorStatus: a share per code
    hang: false            # true: never answer (a stuck process that still accepts)

``quantiles`` takes any of p50, p75, p90, p95, p99 and p999 (what Istio's request-duration
histogram yields through ``histogram_quantile``) and draws from the piecewise-linear inverse
CDF through them: from 0 s at quantile 0 up to the lowest one given, straight lines between
given ones, and the highest one given for every draw above it (no tail is invented).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaoskit.durations import parse_seconds
from chaoskit.mesh.apps.base import AppSettingsError

_KNOWN = {"latency", "errorRate", "errorStatus", "errorCodes", "hang"}
# The quantile keys a latency may give, and the quantile each stands for.
QUANTILE_KEYS = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}


@dataclass(frozen=True, slots=True)
class Latency:
    distribution: str = "fixed"
    a: float = 0.0  # fixed value, min, mean
    b: float = 0.0  # max, stddev
    # quantiles: (quantile, seconds) from lowest to highest, values non-decreasing
    points: tuple[tuple[float, float], ...] = ()

    def draw(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            return self.a
        if self.distribution == "quantiles":
            return self.at_quantile(rng.random())
        if self.distribution == "uniform":
            return rng.uniform(self.a, self.b)
        if self.distribution == "exponential":
            return rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        return max(0.0, rng.gauss(self.a, self.b))

    def at_quantile(self, q: float) -> float:
        """The inverse CDF of a quantiles latency: linear between the given points, from
        (0, 0 s), and flat at the highest one given."""
        low_q, low_s = 0.0, 0.0
        for high_q, high_s in self.points:
            if q <= high_q:
                return low_s + (high_s - low_s) * (q - low_q) / (high_q - low_q)
            low_q, low_s = high_q, high_s
        return low_s


def _seconds(value: Any, field: str) -> float:
    try:
        seconds = parse_seconds(str(value))
    except ValueError as exc:
        raise AppSettingsError(f"{field}: {exc}") from None
    if seconds < 0:
        raise AppSettingsError(f"{field}: must not be negative, got {value!r}")
    return seconds


def parse_latency(value: Any) -> Latency:
    if value is None:
        return Latency()
    if isinstance(value, str):
        return Latency("fixed", _seconds(value, "latency"))
    if not isinstance(value, Mapping):
        raise AppSettingsError(
            f"latency: expected a duration such as '20ms' or a mapping with 'distribution', "
            f"got {value!r}"
        )
    kind = value.get("distribution", "fixed")
    if kind == "fixed":
        return Latency("fixed", _seconds(value.get("value", "0s"), "latency.value"))
    if kind == "uniform":
        low = _seconds(value.get("min", "0s"), "latency.min")
        high = _seconds(value.get("max", "0s"), "latency.max")
        if high < low:
            raise AppSettingsError("latency: max must not be below min")
        return Latency("uniform", low, high)
    if kind == "exponential":
        return Latency("exponential", _seconds(value.get("mean", "0s"), "latency.mean"))
    if kind == "normal":
        return Latency(
            "normal",
            _seconds(value.get("mean", "0s"), "latency.mean"),
            _seconds(value.get("stddev", "0s"), "latency.stddev"),
        )
    if kind == "quantiles":
        return _quantiles(value)
    raise AppSettingsError(
        f"latency.distribution: unknown {kind!r}; use fixed, uniform, exponential, normal "
        "or quantiles"
    )


def _quantiles(value: Mapping[str, Any]) -> Latency:
    unknown = sorted(set(value) - {"distribution"} - set(QUANTILE_KEYS))
    if unknown:
        raise AppSettingsError(
            f"latency: {', '.join(unknown)} is not a quantile key; a quantiles latency takes "
            f"{', '.join(QUANTILE_KEYS)}"
        )
    points = [
        (q, _seconds(value[key], f"latency.{key}"))
        for key, q in QUANTILE_KEYS.items()
        if key in value
    ]
    if not points:
        raise AppSettingsError(
            f"latency: a quantiles latency needs at least one of {', '.join(QUANTILE_KEYS)}, "
            "e.g. {distribution: quantiles, p50: 4ms, p99: 30ms}"
        )
    names = {q: key for key, q in QUANTILE_KEYS.items()}
    for (q1, s1), (q2, s2) in itertools.pairwise(points):
        if s2 < s1:
            raise AppSettingsError(
                f"latency.{names[q2]}: {value[names[q2]]!r} is below latency.{names[q1]} "
                f"{value[names[q1]]!r}; a higher quantile cannot be faster"
            )
    return Latency("quantiles", points=tuple(points))


def _error_codes(value: Any) -> tuple[tuple[int, float], ...]:
    """``{"503": 0.01, "500": 0.002}``: the share of requests answered with each code."""
    if not isinstance(value, Mapping) or not value:
        raise AppSettingsError(
            f'errorCodes: expected a mapping of HTTP status to share, e.g. {{"503": 0.01}}, '
            f"got {value!r}"
        )
    codes: list[tuple[int, float]] = []
    for raw_code, share in value.items():
        code = str(raw_code)
        if not code.isdigit() or not 400 <= int(code) <= 599:
            raise AppSettingsError(
                f"errorCodes: {raw_code!r} is not an error status; use a code from 400 to 599"
            )
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise AppSettingsError(
                f"errorCodes.{code}: expected a share from 0 to 1, got {share!r}"
            )
        codes.append((int(code), float(share)))
    total = sum(share for _, share in codes)
    if total > 1 + 1e-9:
        raise AppSettingsError(
            f"errorCodes: the shares add up to {total:g}, more than every request (1); "
            "each is a share of all requests"
        )
    return tuple(codes)


@dataclass(frozen=True, slots=True)
class Behaviour:
    latency: Latency = Latency()
    error_rate: float = 0.0
    error_status: int = 503
    hang: bool = False
    # (status, share) drawn in this order from one uniform draw; errorRate/errorStatus is
    # the one-code case.
    error_codes: tuple[tuple[int, float], ...] = ()

    def draw_error(self, rng: random.Random) -> int | None:
        """The error status this request gets, or None. One draw per request, and none at
        all when no error is configured (so a seeded run draws the same latencies)."""
        if not self.error_codes:
            return None
        draw = rng.random()
        reached = 0.0
        for status, share in self.error_codes:
            reached += share
            if draw < reached:
                return status
        return None

    @classmethod
    def parse(
        cls, settings: Mapping[str, Any], extra_keys: frozenset[str] = frozenset()
    ) -> Behaviour:
        unknown = set(settings) - _KNOWN - extra_keys
        if unknown:
            raise AppSettingsError(
                f"unknown setting(s) {', '.join(sorted(unknown))}; known: "
                f"{', '.join(sorted(_KNOWN | extra_keys))}"
            )
        rate = settings.get("errorRate", 0.0)
        if not isinstance(rate, int | float) or not 0.0 <= float(rate) <= 1.0:
            raise AppSettingsError(f"errorRate: expected a number from 0 to 1, got {rate!r}")
        status = settings.get("errorStatus", 503)
        if not isinstance(status, int) or not 200 <= status <= 599:
            raise AppSettingsError(f"errorStatus: expected an HTTP status 200-599, got {status!r}")
        if "errorCodes" in settings:
            both = sorted({"errorRate", "errorStatus"} & set(settings))
            if both:
                raise AppSettingsError(
                    f"errorCodes is set together with {' and '.join(both)}; give the errors "
                    'one way: errorCodes: {"503": 0.01} alone, or errorRate with errorStatus'
                )
            codes = _error_codes(settings["errorCodes"])
        else:
            codes = ((status, float(rate)),) if rate else ()
        return cls(
            latency=parse_latency(settings.get("latency")),
            error_rate=sum(share for _, share in codes),
            error_status=codes[0][0] if codes else status,
            hang=bool(settings.get("hang", False)),
            error_codes=codes,
        )
