"""Envoy's outlier detection for one cluster in one proxy (consecutive errors).

Sources: Envoy's outlier_detection_impl.cc and outlier.rst; istio-semantics §2.4. Ejection
is immediate at the Nth consecutive error, capped by max_ejection_percent (Envoy ≥ 1.28:
no "at least one host" unless ``always_eject_one_host``); un-ejection and multiplier decay
happen only on interval ticks. Istio sets success-rate detection off, so it is not here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chaoskit.mesh.clock import Clock
from chaoskit.mesh.config import OutlierSpec
from chaoskit.mesh.stats import ClusterStats

_GATEWAY_ERRORS = frozenset({502, 503, 504})
# Without split_external_local_origin_errors Envoy maps local failures to HTTP codes.
_LOCAL_ORIGIN_STATUS = {"connect": 503, "reset": 503, "timeout": 504}


@dataclass(slots=True)
class _HostState:
    consecutive_5xx: int = 0
    consecutive_gateway: int = 0
    ejected_at: float | None = None
    back_at: float | None = None
    multiplier: int = 0
    ejections: int = 0

    def reset_counters(self) -> None:
        self.consecutive_5xx = self.consecutive_gateway = 0


class OutlierDetector:
    def __init__(
        self, spec: OutlierSpec, clock: Clock, *, always_eject_one_host: bool, stats: ClusterStats
    ) -> None:
        self.spec = spec
        self.clock = clock
        self.always_eject_one_host = always_eject_one_host
        self.stats = stats
        self._hosts: dict[str, _HostState] = {}
        self._events: list[dict[str, Any]] = []
        self._next_tick = clock.now() + spec.interval_s

    def add_host(self, address: str) -> None:
        self._hosts.setdefault(address, _HostState())

    def remove_host(self, address: str) -> None:
        host = self._hosts.pop(address, None)
        if host is not None and host.ejected_at is not None:
            self.stats.add_gauge("outlier_detection.ejections_active", -1)

    def is_ejected(self, address: str) -> bool:
        host = self._hosts.get(address)
        return host is not None and host.ejected_at is not None

    def report(self, address: str, status: int | None, failure: str | None) -> None:
        """One attempt's outcome on ``address``: a status, or a local-origin failure."""
        host = self._hosts.get(address)
        if host is None:
            return
        code = status if status is not None else _LOCAL_ORIGIN_STATUS.get(failure or "", 503)
        if code < 500:
            host.reset_counters()
            return
        host.consecutive_5xx += 1
        host.consecutive_gateway = host.consecutive_gateway + 1 if code in _GATEWAY_ERRORS else 0
        spec = self.spec
        if spec.consecutive_5xx and host.consecutive_5xx >= spec.consecutive_5xx:
            self._eject(address, host, "consecutive_5xx")
        elif spec.consecutive_gateway_errors and (
            host.consecutive_gateway >= spec.consecutive_gateway_errors
        ):
            self._eject(address, host, "consecutive_gateway_failure")

    def _eject(self, address: str, host: _HostState, reason: str) -> None:
        host.reset_counters()
        if host.ejected_at is not None:
            return
        self.stats.inc(f"outlier_detection.ejections_detected_{reason}")
        ejected = sum(1 for h in self._hosts.values() if h.ejected_at is not None)
        allowed = 100 * (ejected + 1) <= self.spec.max_ejection_percent * len(self._hosts)
        if not allowed and self.always_eject_one_host and ejected == 0:
            allowed = True  # Envoy < 1.28 always let one host go
        if not allowed:
            self.stats.inc("outlier_detection.ejections_overflow")
            self._event("overflow", address, host, enforced=False)
            return
        now = self.clock.now()
        host.ejected_at = now
        host.ejections += 1
        if self.spec.base_ejection_time_s * host.multiplier < self._max_ejection_s():
            host.multiplier += 1
        self.stats.inc("outlier_detection.ejections_enforced_total")
        self.stats.inc(f"outlier_detection.ejections_enforced_{reason}")
        self.stats.inc(f"outlier_detection.ejections_{reason}")  # deprecated name, still kept
        self.stats.add_gauge("outlier_detection.ejections_active", 1)
        self._event(reason, address, host, enforced=True)

    def _max_ejection_s(self) -> float:
        return max(300.0, self.spec.base_ejection_time_s)  # Envoy's max_ejection_time default

    def tick(self) -> None:
        """Envoy's interval timer: return hosts whose time is up, decay healthy multipliers."""
        now = self.clock.now()
        if now < self._next_tick:
            return
        self._next_tick = now + self.spec.interval_s
        for address, host in self._hosts.items():
            if host.ejected_at is None:
                healthy_for = None if host.back_at is None else now - host.back_at
                if (
                    host.multiplier
                    and healthy_for is not None
                    and healthy_for >= self.spec.interval_s
                ):
                    host.multiplier -= 1
                    host.back_at = now
                continue
            duration = min(self.spec.base_ejection_time_s * host.multiplier, self._max_ejection_s())
            if now - host.ejected_at >= duration:
                host.ejected_at = None
                host.back_at = now
                host.reset_counters()
                self.stats.add_gauge("outlier_detection.ejections_active", -1)
                self._event("uneject", address, host, enforced=True)

    def _event(self, kind: str, address: str, host: _HostState, *, enforced: bool) -> None:
        # Fields of Envoy's outlier detection event log (event_log_path).
        self._events.append(
            {
                "type": kind,
                "action": "uneject" if kind == "uneject" else "eject",
                "upstream_host": address,
                "num_ejections": host.ejections,
                "enforced": enforced,
                "timestamp": time.time(),
            }
        )
        if len(self._events) > 10_000:
            del self._events[:5_000]

    def event_log(self) -> list[dict[str, Any]]:
        return list(self._events)
