"""Partial weakenings: the protection stays, set looser (90/10 → 80/20, a timeout doubled).

A removal (``mutations.py``) asks whether an experiment notices a protection at all; a
partial weakening asks whether it notices the protection's *setting*. Each operator changes
a field only where the object already has it (an absent field means Istio's default, which
is another setting, not a weaker copy of this one), and every result stays a config Istio
accepts: durations whole milliseconds of at least 1 ms (``agent.ValidateDuration``, istio/istio
pkg/config/validation/agent/validation.go), percentages at most 100, integers in their
protobuf range.
"""

from __future__ import annotations

from chaoskit.durations import parse_go_duration_nanos
from chaoskit.experiment.weakening_sites import (
    Object,
    fault_percentages,
    http_pools,
    http_routes,
    outlier_detections,
)

_MS = 1_000_000
_INT32_MAX = 2**31 - 1  # http1MaxPendingRequests is an int32
_UINT32_MAX = 2**32 - 1  # consecutive5xxErrors is a google.protobuf.UInt32Value


def go_duration(nanos: int) -> str:
    """Whole-millisecond nanoseconds in Go's duration syntax, in the largest exact unit."""
    if nanos % 1_000_000_000 == 0:
        return f"{nanos // 1_000_000_000}s"
    return f"{nanos // _MS}ms"


def _scaled_duration(text: object, numerator: int, denominator: int) -> str | None:
    """``text`` × numerator / denominator, floored to whole ms; ``None`` when that would be
    unchanged, below Istio's 1 ms floor, or ``text`` is not a positive duration."""
    if not isinstance(text, str):
        return None
    try:
        nanos = parse_go_duration_nanos(text)
    except ValueError:
        return None
    if nanos <= 0:  # "0s" disables a timeout: doubling it changes nothing
        return None
    scaled = nanos * numerator // denominator // _MS * _MS
    if scaled < _MS or scaled == nanos:
        return None
    return go_duration(scaled)


def _shift_weights(obj: Object) -> bool:
    """The smallest weight doubles, taken from the largest, never past an even split:
    90/10 → 80/20, 80/20 → 60/40, 60/40 → 50/50 (still summing to 100)."""
    changed = False
    for route in http_routes(obj):
        destinations = route.get("route") or []
        if len(destinations) < 2 or any("weight" not in d for d in destinations):
            continue
        weights = [int(d["weight"]) for d in destinations]
        positive = [w for w in weights if w > 0]
        if not positive:
            continue
        small, large = weights.index(min(positive)), weights.index(max(weights))
        moved = min(weights[small], (weights[large] - weights[small]) // 2)
        if moved <= 0:
            continue
        destinations[small]["weight"] = weights[small] + moved
        destinations[large]["weight"] = weights[large] - moved
        changed = True
    return changed


def _double_timeout(obj: Object) -> bool:
    changed = False
    for route in http_routes(obj):
        retries = route.get("retries")
        holders = [(route, "timeout")]
        if isinstance(retries, dict):
            holders.append((retries, "perTryTimeout"))
        for holder, key in holders:
            doubled = _scaled_duration(holder.get(key), 2, 1)
            if doubled is not None:
                holder[key] = doubled
                changed = True
    return changed


def _raise_consecutive_5xx(obj: Object) -> bool:
    changed = False
    for outlier in outlier_detections(obj):
        value = outlier.get("consecutive5xxErrors")
        if isinstance(value, int) and value > 0:  # 0 turns the 5xx detector off already
            outlier["consecutive5xxErrors"] = min(value * 10, _UINT32_MAX)
            changed = True
    return changed


def _halve_base_ejection_time(obj: Object) -> bool:
    changed = False
    for outlier in outlier_detections(obj):
        halved = _scaled_duration(outlier.get("baseEjectionTime"), 1, 2)
        if halved is not None:
            outlier["baseEjectionTime"] = halved
            changed = True
    return changed


def _raise_max_ejection(obj: Object) -> bool:
    changed = False
    for outlier in outlier_detections(obj):
        value = outlier.get("maxEjectionPercent")
        if isinstance(value, int) and 0 < value < 100:
            outlier["maxEjectionPercent"] = 100
            changed = True
    return changed


def _raise_fault_percent(obj: Object) -> bool:
    changed = False
    for percentage in fault_percentages(obj):
        value = percentage.get("value")
        if isinstance(value, int | float) and 0 < value < 100:
            percentage["value"] = min(100.0, value * 1.5)
            changed = True
    return changed


def _raise_pending_limit(obj: Object) -> bool:
    changed = False
    for http in http_pools(obj):
        value = http.get("http1MaxPendingRequests")
        if isinstance(value, int) and 0 < value < _INT32_MAX:
            http["http1MaxPendingRequests"] = min(value * 10, _INT32_MAX)
            changed = True
    return changed


PARTIAL_WEAKENINGS = {
    "shift-weights": (_shift_weights, "double the smallest route weight (90/10 → 80/20)"),
    "double-timeout": (_double_timeout, "double VirtualService timeouts and perTryTimeouts"),
    "raise-consecutive-5xx": (_raise_consecutive_5xx, "consecutive5xxErrors ×10 (5 → 50)"),
    "halve-base-ejection-time": (_halve_base_ejection_time, "halve baseEjectionTime"),
    "raise-max-ejection": (_raise_max_ejection, "maxEjectionPercent to 100 (50 → 100)"),
    "raise-fault-percent": (_raise_fault_percent, "fault percentages ×1.5, at most 100"),
    "raise-pending-limit": (_raise_pending_limit, "http1MaxPendingRequests ×10"),
}
