"""Interim cluster policies so the mesh runs end to end before the full modules land.

Replaced by clock.py, retry.py, loadbalancer.py and outlier.py.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from collections.abc import Sequence
from enum import Enum
from typing import Any, Protocol
from urllib.parse import parse_qsl

from chaoskit.mesh.attempt import AttemptResult
from chaoskit.mesh.config import HashPolicy, LbSpec, OutlierSpec, RetrySpec
from chaoskit.mesh.http.message import Request


class Clock(Protocol):
    def now(self) -> float: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


# --- retries -----------------------------------------------------------------------------

_CONDITIONS = {
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "refused-stream",
    "retriable-4xx",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
    "http3-post-connect-failure",
}
ISTIO_DEFAULT_RETRY_ON = (
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
    "retriable-status-codes",
)


def parse_retry_on(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    conditions: list[str] = []
    codes: list[int] = []
    for item in (p.strip() for p in text.split(",") if p.strip()):
        if item.isdigit():
            codes.append(int(item))
        elif item in _CONDITIONS:
            conditions.append(item)
        else:
            raise ValueError(f"unknown retryOn condition {item!r}")
    if codes and "retriable-status-codes" not in conditions:
        conditions.append("retriable-status-codes")
    return tuple(conditions), tuple(codes)


def istio_default_retry_policy(include_503: bool) -> RetrySpec:
    return RetrySpec(
        num_retries=2,
        retry_on=ISTIO_DEFAULT_RETRY_ON,
        retriable_status_codes=(503,) if include_503 else (),
    )


class RetryDecision(Enum):
    NO = "no"
    RETRY = "retry"


def should_retry(spec: RetrySpec | None, result: AttemptResult) -> RetryDecision:
    if spec is None or result.failure in ("overflow", "no_healthy"):
        return RetryDecision.NO
    on = set(spec.retry_on)
    failure, status = result.failure, result.status
    if failure == "connect" and on & {"connect-failure", "5xx", "gateway-error", "reset"}:
        return RetryDecision.RETRY
    if failure == "reset" and on & {"5xx", "reset"}:
        return RetryDecision.RETRY
    if failure == "timeout" and on & {"5xx", "gateway-error", "reset"}:
        return RetryDecision.RETRY
    if status is not None:
        if "5xx" in on and status >= 500:
            return RetryDecision.RETRY
        if "gateway-error" in on and status in (502, 503, 504):
            return RetryDecision.RETRY
        if "retriable-4xx" in on and status == 409:
            return RetryDecision.RETRY
        if "retriable-status-codes" in on and status in spec.retriable_status_codes:
            return RetryDecision.RETRY
    return RetryDecision.NO


def backoff_delay(retry_number: int, base_s: float, rng: random.Random) -> float:
    ceiling = min(base_s * (2**retry_number - 1), 10 * base_s)
    return rng.uniform(0, ceiling)


# --- load balancing ----------------------------------------------------------------------


class _Host(Protocol):
    @property
    def address(self) -> str: ...

    @property
    def active_requests(self) -> int: ...


def hash_key(policy: HashPolicy, request: Request, source_ip: str) -> int | None:
    value: str | None = None
    if policy.header:
        value = request.headers.get(policy.header.lower())
    elif policy.cookie:
        for cookie in request.headers.get_all("cookie"):
            for part in cookie.split(";"):
                name, _, v = part.strip().partition("=")
                if name == policy.cookie:
                    value = v
    elif policy.source_ip:
        value = source_ip
    elif policy.query_parameter:
        value = dict(parse_qsl(request.query)).get(policy.query_parameter)
    if value is None:
        return None
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")


class Balancer:
    def __init__(self, spec: LbSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self._rr = 0

    def choose(self, hosts: Sequence[Any], key: int | None) -> Any:
        if not hosts:
            return None
        kind = self.spec.kind
        if kind in ("RING_HASH", "MAGLEV") and key is not None:
            ring = sorted(
                (
                    int.from_bytes(
                        hashlib.blake2b(f"{h.address}_{i}".encode(), digest_size=8).digest(), "big"
                    ),
                    h,
                )
                for h in hosts
                for i in range(max(1, self.spec.ring_size // len(hosts)))
            )
            index = bisect.bisect_left([p for p, _ in ring], key) % len(ring)
            return ring[index][1]
        if kind == "ROUND_ROBIN":
            self._rr += 1
            return hosts[self._rr % len(hosts)]
        if kind == "LEAST_REQUEST" and len(hosts) > 1:
            a, b = self.rng.sample(list(hosts), 2)
            return a if a.active_requests <= b.active_requests else b
        return hosts[self.rng.randrange(len(hosts))]


def make_balancer(spec: LbSpec, rng: random.Random) -> Balancer:
    return Balancer(spec, rng)


# --- outlier detection -------------------------------------------------------------------


class OutlierDetector:
    def __init__(
        self, spec: OutlierSpec, clock: Clock, *, always_eject_one_host: bool, stats: Any
    ) -> None:
        self.spec = spec
        self.clock = clock
        self.always_eject_one_host = always_eject_one_host
        self.stats = stats
        self._hosts: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._next_tick = clock.now() + spec.interval_s

    def add_host(self, address: str) -> None:
        self._hosts.setdefault(
            address, {"c5xx": 0, "cgw": 0, "ejected_at": None, "mult": 0, "n": 0}
        )

    def remove_host(self, address: str) -> None:
        self._hosts.pop(address, None)

    def is_ejected(self, address: str) -> bool:
        host = self._hosts.get(address)
        return bool(host and host["ejected_at"] is not None)

    def report(self, address: str, status: int | None, failure: str | None) -> None:
        host = self._hosts.get(address)
        if host is None:
            return
        code = status if status is not None else (504 if failure == "timeout" else 503)
        if code < 500:
            host["c5xx"] = host["cgw"] = 0
            return
        host["c5xx"] += 1
        host["cgw"] = host["cgw"] + 1 if code in (502, 503, 504) else 0
        if self.spec.consecutive_5xx and host["c5xx"] >= self.spec.consecutive_5xx:
            self._eject(address, host, "consecutive_5xx")
        elif (
            self.spec.consecutive_gateway_errors
            and host["cgw"] >= self.spec.consecutive_gateway_errors
        ):
            self._eject(address, host, "consecutive_gateway_failure")

    def _eject(self, address: str, host: dict[str, Any], reason: str) -> None:
        host["c5xx"] = host["cgw"] = 0
        if host["ejected_at"] is not None:
            return
        self.stats.inc(f"outlier_detection.ejections_detected_{reason}")
        ejected = sum(1 for h in self._hosts.values() if h["ejected_at"] is not None)
        total = len(self._hosts)
        allowed = 100 * (ejected + 1) <= self.spec.max_ejection_percent * total
        if not allowed and self.always_eject_one_host and ejected == 0:
            allowed = True
        if not allowed:
            self.stats.inc("outlier_detection.ejections_overflow")
            return
        host["ejected_at"] = self.clock.now()
        host["mult"] += 1
        host["n"] += 1
        self.stats.inc("outlier_detection.ejections_enforced_total")
        self.stats.inc(f"outlier_detection.ejections_enforced_{reason}")
        self.stats.add_gauge("outlier_detection.ejections_active", 1)
        self._events.append(
            {
                "type": reason,
                "action": "eject",
                "upstream_host": address,
                "num_ejections": host["n"],
                "timestamp": time.time(),
            }
        )

    def tick(self) -> None:
        now = self.clock.now()
        if now < self._next_tick:
            return
        self._next_tick = now + self.spec.interval_s
        for address, host in self._hosts.items():
            if host["ejected_at"] is None:
                # Envoy lowers the multiplier of a host that has stayed healthy an interval.
                back_at = host.get("back_at")
                if host["mult"] and back_at is not None and now - back_at >= self.spec.interval_s:
                    host["mult"] -= 1
                    host["back_at"] = now
                continue
            duration = min(
                self.spec.base_ejection_time_s * host["mult"],
                max(300.0, self.spec.base_ejection_time_s),
            )
            if now - host["ejected_at"] >= duration:
                host["ejected_at"] = None
                host["back_at"] = now
                host["c5xx"] = host["cgw"] = 0
                self.stats.add_gauge("outlier_detection.ejections_active", -1)
                self._events.append(
                    {
                        "type": "uneject",
                        "action": "uneject",
                        "upstream_host": address,
                        "num_ejections": host["n"],
                        "timestamp": time.time(),
                    }
                )

    def event_log(self) -> list[dict[str, Any]]:
        return list(self._events)
