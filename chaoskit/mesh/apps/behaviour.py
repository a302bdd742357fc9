"""Run-time behaviour a demo app can be told: latency distribution and error rate.

Settings (camelCase, as in the mesh spec and pod annotations)::

    latency: 20ms                                  # fixed
    latency: {distribution: uniform, min: 5ms, max: 50ms}
    latency: {distribution: exponential, mean: 20ms}
    latency: {distribution: normal, mean: 50ms, stddev: 10ms}
    errorRate: 0.2         # share of requests answered with errorStatus (0..1)
    errorStatus: 503
    hang: false            # true: never answer (a stuck process that still accepts)
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaoskit.durations import parse_seconds
from chaoskit.mesh.apps.base import AppSettingsError

_KNOWN = {"latency", "errorRate", "errorStatus", "hang"}


@dataclass(frozen=True, slots=True)
class Latency:
    distribution: str = "fixed"
    a: float = 0.0  # fixed value, min, mean
    b: float = 0.0  # max, stddev

    def draw(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            return self.a
        if self.distribution == "uniform":
            return rng.uniform(self.a, self.b)
        if self.distribution == "exponential":
            return rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        return max(0.0, rng.gauss(self.a, self.b))


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
    raise AppSettingsError(
        f"latency.distribution: unknown {kind!r}; use fixed, uniform, exponential or normal"
    )


@dataclass(frozen=True, slots=True)
class Behaviour:
    latency: Latency = Latency()
    error_rate: float = 0.0
    error_status: int = 503
    hang: bool = False

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
        return cls(
            latency=parse_latency(settings.get("latency")),
            error_rate=float(rate),
            error_status=status,
            hang=bool(settings.get("hang", False)),
        )
