"""Proof that a fault took effect: in the callers' config, and at the configured rate.

Peers' users keep reporting experiments that "passed" while the fault never applied. A
VirtualService fault is enforced by the client sidecar (istio-semantics §2.1), so the
callers' route tables must carry it, and the callers' access logs must show the injected
share (Envoy flags ``DI`` for delays, ``FI`` for aborts) matching the configured percentage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from chaoskit.stats import Judgement, Verdict, proportion_matches

# Proof must catch a fault that did nothing or acted at a different rate, never flake on
# an honest one: a 99.9% interval wholly outside ±half the configured share.
PROOF_CONFIDENCE = 0.999
PROOF_RELATIVE_TOLERANCE = 0.5


def host_names(service: str, namespace: str) -> set[str]:
    return {service, f"{service}.{namespace}", f"{service}.{namespace}.svc.cluster.local"}


def _virtual_hosts(config: Any) -> Iterator[dict[str, Any]]:
    if isinstance(config, dict):
        if "domains" in config and "routes" in config:
            yield config
        for value in config.values():
            yield from _virtual_hosts(value)
    elif isinstance(config, list):
        for value in config:
            yield from _virtual_hosts(value)


# Envoy keeps a route's fault in its per-filter config under the fault filter's name (Istio
# writes it there: pilot/pkg/networking/core/route); the embedded mesh's dump has ``fault``.
FAULT_FILTER = "envoy.filters.http.fault"


def _route_fault(route: dict[str, Any]) -> dict[str, Any] | None:
    fault = route.get("fault") or (route.get("typed_per_filter_config") or {}).get(FAULT_FILTER)
    return fault if isinstance(fault, dict) and fault else None


def faults_in_config(config: Any, service: str, namespace: str) -> list[dict[str, Any]]:
    """The faults of routes for ``service`` in one sidecar's ``/config_dump``."""
    names = host_names(service, namespace)
    found: list[dict[str, Any]] = []
    for vhost in _virtual_hosts(config):
        if names & {d.rsplit(":", 1)[0] for d in vhost["domains"]}:
            found.extend(f for r in vhost["routes"] if (f := _route_fault(r)) is not None)
    return found


@dataclass(frozen=True)
class Injection:
    matched: int
    injected: int
    flag: str


def injection_counts(
    records: Iterable[dict[str, Any]], service: str, namespace: str, flag: str, route: str | None
) -> Injection:
    """Outbound requests to ``service`` (on ``route`` if named) and how many carry ``flag``."""
    names = host_names(service, namespace)
    matched = injected = 0
    for record in records:
        # A client sidecar's outbound side, or a waypoint (ambient: faults act there).
        if record.get("direction") not in ("outbound", "waypoint"):
            continue
        if record.get("authority", "").rsplit(":", 1)[0] not in names:
            continue
        if route is not None and record.get("route_name") != route:
            continue
        matched += 1
        if flag in str(record.get("response_flags", "")).split(","):
            injected += 1
    return Injection(matched, injected, flag)


def judge_injection(counts: Injection, percent: float, what: str) -> Judgement:
    """Did the fault act at about its configured rate?

    FAIL when the interval lies wholly outside ±half the configured share (the fault acts
    at another rate, or not at all). Otherwise the proof needs the fault to have acted at
    least once: then the share is *consistent with* the config (PASS) even when too few
    requests pin it inside the band. No injection at all is INCONCLUSIVE, with the number
    of requests after which seeing none would be evidence (chance below 0.1 %).
    """
    expected = percent / 100.0
    judgement = proportion_matches(
        counts.injected,
        counts.matched,
        expected,
        PROOF_CONFIDENCE,
        tolerance=min(expected * PROOF_RELATIVE_TOLERANCE, 1.0 - expected) or None,
        subject=f"observed {what} rate",
    )
    if judgement.verdict is not Verdict.INCONCLUSIVE or counts.matched == 0:
        return judgement
    if counts.injected == 0:
        needed = requests_to_see_one(expected)
        reason = (
            f"no request was {what}ed yet; at {percent:g}% about {needed} requests on the "
            "faulted route would show it"
        )
        return replace(judgement, reason=reason)
    return replace(
        judgement,
        verdict=Verdict.PASS,
        relation="consistent with",
        reason="the interval overlaps the tolerance band; more requests would pin it inside",
    )


def requests_to_see_one(share: float, chance: float = 1.0 - PROOF_CONFIDENCE) -> int:
    """The fewest requests after which none injected at ``share`` has probability < ``chance``."""
    if share >= 1.0:
        return 1
    return max(1, math.ceil(math.log(chance) / math.log1p(-share)))
