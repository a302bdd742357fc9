"""Envoy's outlier detection for one cluster in one client proxy, and the panic threshold.

Emulates ``source/common/upstream/outlier_detection_impl.cc`` (Envoy ≥ 1.28) as Istio
configures it (``pilot/pkg/networking/core/cluster_traffic_policy.go``,
``applyOutlierDetection``):

* Every result on a host updates its consecutive counters; a counter *equal* to its
  threshold triggers detection at once (Envoy posts it to the main thread; here it is
  synchronous). Detection of a host that is already ejected does nothing.
* Ejection is capped: allowed only if ``100 × (ejected + 1) / hosts ≤ max_ejection_percent``
  (Envoy PR #27909, 1.28). ``always_eject_one_host`` restores the older formula,
  ``100 × ejected / hosts < max_ejection_percent``, under which the first host always goes.
* Un-ejection and multiplier decay happen only on interval ticks (``onIntervalTimer``).
* Success-rate and failure-percentage detection are not implemented: Istio always sets
  ``enforcing_success_rate`` to 0 and never enables failure percentage, so they could only
  change ``ejections_detected_success_rate``.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from chaoskit.mesh.clock import Clock
from chaoskit.mesh.config import OutlierSpec

# Http::CodeUtility::isGatewayError.
GATEWAY_ERRORS = frozenset({502, 503, 504})
# DetectorConfig: DEFAULT_MAX_EJECTION_TIME_MS (10 × the default base ejection time).
DEFAULT_MAX_EJECTION_TIME_S = 300.0
# Envoy's common_lb_config.healthy_panic_threshold default; Istio overrides it only when a
# DestinationRule has an outlierDetection block (then minHealthPercent, default 0).
ENVOY_DEFAULT_PANIC_THRESHOLD = 50.0

EjectionType = Literal[
    "CONSECUTIVE_5XX", "CONSECUTIVE_GATEWAY_FAILURE", "CONSECUTIVE_LOCAL_ORIGIN_FAILURE"
]
# envoy.data.cluster.v3.OutlierEjectionType → the suffix of its stats.
_STAT_SUFFIX: dict[EjectionType, str] = {
    "CONSECUTIVE_5XX": "consecutive_5xx",
    "CONSECUTIVE_GATEWAY_FAILURE": "consecutive_gateway_failure",
    "CONSECUTIVE_LOCAL_ORIGIN_FAILURE": "consecutive_local_origin_failure",
}
_ACTIVE = "outlier_detection.ejections_active"
# Counters the detector creates at 0 (source/common/upstream/outlier_detection_impl.h
# ALL_OUTLIER_DETECTION_STATS; a DetectorImpl exists only for a cluster with outlier
# detection), among those chaoskit counts.
OUTLIER_COUNTERS = (
    "outlier_detection.ejections_consecutive_5xx",
    "outlier_detection.ejections_enforced_total",
    "outlier_detection.ejections_overflow",
    "outlier_detection.ejections_total",
    *(f"outlier_detection.ejections_detected_{s}" for s in _STAT_SUFFIX.values()),
    *(f"outlier_detection.ejections_enforced_{s}" for s in _STAT_SUFFIX.values()),
)


class LocalOrigin(enum.Enum):
    """Envoy's ``Outlier::Result`` values for events the proxy itself observed."""

    CONNECT_FAILED = "connect_failed"  # connect error/timeout, and any upstream reset (router.cc)
    TIMEOUT = "timeout"  # per-try or route timeout (reported with code 504)
    CONNECT_SUCCESS = "connect_success"  # pool ready (upstream_request.cc onPoolReady)
    CONNECT_SUCCESS_FINAL = "connect_success_final"


# Legacy failure names used by the data plane (chaoskit.mesh.attempt.Failure).
_FAILURE_NAMES: dict[str, LocalOrigin] = {
    "connect": LocalOrigin.CONNECT_FAILED,
    "reset": LocalOrigin.CONNECT_FAILED,
    "timeout": LocalOrigin.TIMEOUT,
}


class StatSink(Protocol):
    """Where counters and gauges go (``chaoskit.mesh.stats.ClusterStats`` fits)."""

    def inc(self, stat: str, amount: int = 1) -> None: ...

    def gauge(self, stat: str, value: int) -> None: ...


@dataclass(frozen=True, slots=True)
class OutlierEvent:
    """One line of Envoy's outlier event log (``envoy.data.cluster.v3.OutlierDetectionEvent``)."""

    type: EjectionType | None  # None for UNEJECT, as in Envoy's log
    action: Literal["EJECT", "UNEJECT"]
    cluster_name: str
    upstream_url: str
    num_ejections: int
    enforced: bool
    secs_since_last_action: int | None
    timestamp: float  # wall-clock seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "action": self.action,
            "cluster_name": self.cluster_name,
            "upstream_url": self.upstream_url,
            "num_ejections": self.num_ejections,
            "enforced": self.enforced,
            "secs_since_last_action": self.secs_since_last_action,
            "timestamp": self.timestamp,
        }


@dataclass(slots=True)
class HostState:
    """``DetectorHostMonitorImpl``: counters and ejection history of one host."""

    consecutive_5xx: int = 0
    consecutive_gateway_failure: int = 0
    consecutive_local_origin_failure: int = 0
    ejected: bool = False
    num_ejections: int = 0
    multiplier: int = 0  # ejectTimeBackoff
    last_ejection: float | None = None
    last_unejection: float | None = None

    def reset_counters(self) -> None:
        self.consecutive_5xx = 0
        self.consecutive_gateway_failure = 0
        self.consecutive_local_origin_failure = 0


class HasAddress(Protocol):
    @property
    def address(self) -> str: ...


A = TypeVar("A", bound=HasAddress)
T = TypeVar("T")


def hosts_for_lb(
    hosts: Sequence[T], healthy: Callable[[T], bool], panic_threshold_percent: float
) -> tuple[list[T], bool]:
    """The hosts a load balancer picks from, and whether the cluster is in panic.

    Envoy's ``LoadBalancerBase::isHostSetInPanic``: in panic when the healthy share is
    *strictly* below the threshold (capped at 100); then every host is used, healthy or not.
    A threshold of 0 never panics, so with all hosts ejected nothing is left (503 UH).
    """
    healthy_hosts = [h for h in hosts if healthy(h)]
    percent = 100.0 * len(healthy_hosts) / len(hosts) if hosts else 0.0
    if percent < min(100.0, panic_threshold_percent):
        return list(hosts), True
    return healthy_hosts, False


class OutlierDetector:
    """Envoy's ``DetectorImpl`` for one cluster, keyed by host address (``ip:port``)."""

    def __init__(
        self,
        spec: OutlierSpec,
        clock: Clock,
        always_eject_one_host: bool = False,
        *,
        stats: StatSink | None = None,
        cluster: str = "",
        rng: random.Random | None = None,
        on_event: Callable[[OutlierEvent], None] | None = None,
        wall_time: Callable[[], float] = time.time,
        max_events: int = 10_000,
    ) -> None:
        if spec.interval_s <= 0 or spec.base_ejection_time_s <= 0:
            raise ValueError("outlier detection needs interval and base ejection time > 0")
        if spec.max_ejection_time_s is not None and (
            spec.max_ejection_time_s < spec.base_ejection_time_s
        ):
            # DetectorImpl::create refuses the same configuration.
            raise ValueError(
                "outlier detector's max_ejection_time cannot be smaller than base_ejection_time"
            )
        self.spec = spec
        self.clock = clock
        self.always_eject_one_host = always_eject_one_host
        self.cluster = cluster
        self.stats: dict[str, int] = {_ACTIVE: 0}
        self.events: list[OutlierEvent] = []
        self._sink = stats
        self._rng = rng or random.Random(0)
        self._on_event = on_event
        self._wall_time = wall_time
        self._max_events = max_events
        self._hosts: dict[str, HostState] = {}
        # DetectorImpl::initialize arms the interval timer when the cluster is created.
        self._next_tick = clock.now() + spec.interval_s
        if stats is not None:
            stats.gauge(_ACTIVE, 0)

    # --- membership (EDS updates; addMemberUpdateCb) ----------------------------------------------

    def add_host(self, host: str) -> None:
        self._hosts.setdefault(host, HostState())

    def remove_host(self, host: str) -> None:
        state = self._hosts.pop(host, None)
        if state is not None and state.ejected:
            self._set_active(-1)

    def hosts(self) -> Iterator[str]:
        return iter(self._hosts)

    def host_state(self, host: str) -> HostState | None:
        return self._hosts.get(host)

    def is_ejected(self, host: str) -> bool:
        state = self._hosts.get(host)
        return state is not None and state.ejected

    def ejected_hosts(self) -> list[str]:
        return [address for address, state in self._hosts.items() if state.ejected]

    @property
    def max_ejection_time_s(self) -> float:
        # DetectorConfig: max_ejection_time defaults to max(300 s, base_ejection_time).
        if self.spec.max_ejection_time_s is not None:
            return self.spec.max_ejection_time_s
        return max(DEFAULT_MAX_EJECTION_TIME_S, self.spec.base_ejection_time_s)

    @property
    def next_tick_at(self) -> float:
        return self._next_tick

    # --- results ----------------------------------------------------------------------------------

    def report(
        self,
        host: str,
        status: int | None,
        local_origin: bool | str | LocalOrigin | None = False,
    ) -> None:
        """One attempt's outcome on ``host``.

        ``status`` alone is an upstream response. ``local_origin`` marks a failure the proxy
        saw itself: ``True`` (connect failure or reset; with ``status`` 504, a timeout), a
        :class:`LocalOrigin`, or the data plane's names ``"connect"``, ``"reset"``,
        ``"timeout"``. Injected faults and breaker overflows must not be reported: Envoy's
        router never charges a host for them (router.cc ignores ``Overflow`` resets).
        """
        result: LocalOrigin | None
        if isinstance(local_origin, LocalOrigin):
            result = local_origin
        elif isinstance(local_origin, str):
            result = _FAILURE_NAMES.get(local_origin, LocalOrigin.CONNECT_FAILED)
        elif local_origin or status is None:
            result = LocalOrigin.TIMEOUT if status == 504 else LocalOrigin.CONNECT_FAILED
        else:
            result = None
        if result is None:
            assert status is not None
            if self.spec.split_external_local_origin_errors:
                # A response means the connection worked (onPoolReady reported it first).
                self.report_local(host, LocalOrigin.CONNECT_SUCCESS)
            self.report_http(host, status)
        elif result is LocalOrigin.TIMEOUT:
            # Router: putResult(LocalOriginTimeout, timeout_response_code_ = 504).
            self.report_local(host, result, 504)
        else:
            self.report_local(host, result)

    def report_http(self, host: str, status: int) -> None:
        """``putHttpResponseCode``: a response from the upstream (external origin)."""
        state = self._hosts.get(host)
        if state is None:
            return
        spec = self.spec
        if 500 <= status <= 599:
            if status in GATEWAY_ERRORS:
                state.consecutive_gateway_failure += 1
                if state.consecutive_gateway_failure == spec.consecutive_gateway_errors:
                    self._detected(host, state, "CONSECUTIVE_GATEWAY_FAILURE")
            else:
                state.consecutive_gateway_failure = 0
            state.consecutive_5xx += 1
            if state.consecutive_5xx == spec.consecutive_5xx:
                self._detected(host, state, "CONSECUTIVE_5XX")
        else:
            state.consecutive_5xx = 0
            state.consecutive_gateway_failure = 0

    def report_local(self, host: str, result: LocalOrigin, code: int | None = None) -> None:
        """``putResult``: a locally observed event, mapped to an HTTP code unless split."""
        state = self._hosts.get(host)
        if state is None:
            return
        if not self.spec.split_external_local_origin_errors:
            # putResultNoLocalExternalSplit / resultToHttpCode.
            if code is not None:
                self.report_http(host, code)
            elif result is LocalOrigin.CONNECT_FAILED:
                self.report_http(host, 503)
            elif result is LocalOrigin.TIMEOUT:
                self.report_http(host, 504)
            elif result is LocalOrigin.CONNECT_SUCCESS_FINAL:
                self.report_http(host, 200)
            # CONNECT_SUCCESS is not mapped: the HTTP response that follows decides.
            return
        # putResultWithLocalExternalSplit.
        if result in (LocalOrigin.CONNECT_FAILED, LocalOrigin.TIMEOUT):
            state.consecutive_local_origin_failure += 1
            if state.consecutive_local_origin_failure == self.spec.consecutive_local_origin_failure:
                self._detected(host, state, "CONSECUTIVE_LOCAL_ORIGIN_FAILURE")
        else:
            state.consecutive_local_origin_failure = 0

    # --- ejection ---------------------------------------------------------------------------------

    def _detected(self, host: str, state: HostState, kind: EjectionType) -> None:
        # onConsecutiveErrorWorker: an ejected host is ignored (its counter is not reset).
        if state.ejected:
            return
        self._inc(f"outlier_detection.ejections_detected_{_STAT_SUFFIX[kind]}")
        self._eject(host, state, kind)
        if kind == "CONSECUTIVE_5XX":
            self._inc("outlier_detection.ejections_consecutive_5xx")  # deprecated, still emitted
            state.consecutive_5xx = 0
        elif kind == "CONSECUTIVE_GATEWAY_FAILURE":
            state.consecutive_gateway_failure = 0
        else:
            state.consecutive_local_origin_failure = 0

    def _may_eject(self) -> bool:
        active = self.stats[_ACTIVE]
        cap = min(100, self.spec.max_ejection_percent)
        if self.always_eject_one_host:
            # Envoy <= 1.27 (Istio <= 1.19) compared the share *before* this ejection:
            # ejected / hosts < max %, so the first host always went and 3 hosts at 50 %
            # could lose 2 (outlier_detection_impl.cc before PR #27909).
            return 100.0 * active / len(self._hosts) < cap
        # DetectorImpl::ejectHost: the share *after* this ejection must not exceed the cap.
        return 100.0 * (active + 1) / len(self._hosts) <= cap

    def _enforcing(self, kind: EjectionType) -> int:
        spec = self.spec
        if kind == "CONSECUTIVE_5XX":
            return spec.enforcing_consecutive_5xx
        if kind == "CONSECUTIVE_GATEWAY_FAILURE":
            return spec.enforcing_consecutive_gateway_failure
        return spec.enforcing_consecutive_local_origin_failure

    def _eject(self, host: str, state: HostState, kind: EjectionType) -> None:
        if not self._may_eject():
            self._inc("outlier_detection.ejections_overflow")
            return
        if kind == "CONSECUTIVE_5XX":
            self._inc("outlier_detection.ejections_total")  # deprecated, still emitted
        percent = self._enforcing(kind)
        # runtime featureEnabled(key, percent): a draw only when neither 0 nor 100.
        enforced = percent >= 100 or (percent > 0 and self._rng.randrange(100) < percent)
        if not enforced:
            self._event(kind, "EJECT", host, state, enforced=False)
            return
        now = self.clock.now()
        previous_uneject = state.last_unejection
        state.ejected = True
        state.num_ejections += 1
        state.last_ejection = now
        self._set_active(+1)
        self._inc("outlier_detection.ejections_enforced_total")
        self._inc(f"outlier_detection.ejections_enforced_{_STAT_SUFFIX[kind]}")
        # The multiplier grows while base × multiplier < max + base, so once the duration
        # is capped it takes two healthy intervals before it shrinks below the cap.
        base, cap = self.spec.base_ejection_time_s, self.max_ejection_time_s
        if state.multiplier * base < cap + base:
            state.multiplier += 1
        self._event(kind, "EJECT", host, state, enforced=True, since=previous_uneject)

    def ejection_duration_s(self, host: str) -> float | None:
        """How long the current ejection lasts before the next tick may return the host."""
        state = self._hosts.get(host)
        if state is None or not state.ejected:
            return None
        return min(self.spec.base_ejection_time_s * state.multiplier, self.max_ejection_time_s)

    # --- the interval timer -----------------------------------------------------------------------

    def tick(self) -> bool:
        """Run Envoy's interval timer if it is due; returns whether it ran.

        Safe to call as often as wanted: like ``armIntervalTimer``, the next run is one
        interval after this one. Hosts whose ejection time has elapsed come back (only here),
        then every host back for at least one interval loses one multiplier step.
        """
        now = self.clock.now()
        if now < self._next_tick:
            return False
        self._next_tick = now + self.spec.interval_s
        for host, state in self._hosts.items():
            duration = self.ejection_duration_s(host)
            last = state.last_ejection
            if duration is not None and last is not None and now - last >= duration:
                self._uneject(host, state, now)
        for state in self._hosts.values():
            if (
                not state.ejected
                and state.last_unejection is not None
                and now - state.last_unejection >= self.spec.interval_s
                and state.multiplier > 0
            ):
                state.multiplier -= 1
        return True

    def _uneject(self, host: str, state: HostState, now: float) -> None:
        # unejectHost: counters reset so a few errors do not re-eject at once.
        state.ejected = False
        state.reset_counters()
        state.last_unejection = now
        self._set_active(-1)
        self._event(None, "UNEJECT", host, state, enforced=True, since=state.last_ejection)

    # --- panic threshold --------------------------------------------------------------------------

    def healthy_for_lb(
        self,
        hosts: Sequence[A],
        *,
        eds_healthy: Callable[[A], bool] | None = None,
        panic_threshold_percent: float | None = None,
    ) -> tuple[list[A], bool]:
        """Hosts for the load balancer after ejection, with Istio's panic threshold.

        The threshold defaults to ``min_health_percent`` (Istio maps minHealthPercent to
        ``common_lb_config.healthy_panic_threshold``; 0 disables panic mode).
        """
        threshold = (
            self.spec.min_health_percent
            if panic_threshold_percent is None
            else panic_threshold_percent
        )

        def healthy(host: A) -> bool:
            if eds_healthy is not None and not eds_healthy(host):
                return False
            return not self.is_ejected(host.address)

        return hosts_for_lb(hosts, healthy, threshold)

    # --- stats and events -------------------------------------------------------------------------

    def _inc(self, stat: str) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + 1
        if self._sink is not None:
            self._sink.inc(stat)

    def _set_active(self, delta: int) -> None:
        self.stats[_ACTIVE] += delta
        if self._sink is not None:
            self._sink.gauge(_ACTIVE, self.stats[_ACTIVE])

    def _event(
        self,
        kind: EjectionType | None,
        action: Literal["EJECT", "UNEJECT"],
        host: str,
        state: HostState,
        *,
        enforced: bool,
        since: float | None = None,
    ) -> None:
        # EventLoggerImpl: secs since the previous opposite action, when there was one.
        elapsed = None if since is None else int(self.clock.now() - since)
        event = OutlierEvent(
            type=kind,
            action=action,
            cluster_name=self.cluster,
            upstream_url=host,
            num_ejections=state.num_ejections,
            enforced=enforced,
            secs_since_last_action=elapsed,
            timestamp=self._wall_time(),
        )
        self.events.append(event)
        if len(self.events) > self._max_events:
            del self.events[: self._max_events // 2]
        if self._on_event is not None:
            self._on_event(event)

    def event_log(self) -> list[dict[str, object]]:
        """The events as JSON-ready dicts (field names of Envoy's event log)."""
        return [event.as_dict() for event in self.events]
