"""Weakenings of mesh config, one at a time: does the suite notice a missing protection,
or a looser one?

Removals (here) take a protection away; partial weakenings (``partial_mutations.py``) keep
it, set looser. Each operator takes one Istio object (a dict) and returns the weakened
copy, or ``None`` when it has nothing to weaken there. ``chaoskit mutate`` runs every
experiment once per operator that changes something it applied; an experiment that still
passes missed it, unless it declared that weakening uncatchable at its n.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from chaoskit.errors import ConfigError
from chaoskit.experiment.partial_mutations import PARTIAL_WEAKENINGS
from chaoskit.experiment.weakening_sites import Object, http_routes, traffic_policies


def _drop_timeout(obj: Object) -> bool:
    changed = False
    for route in http_routes(obj):
        changed |= route.pop("timeout", None) is not None
        retries = route.get("retries") or {}
        changed |= retries.pop("perTryTimeout", None) is not None
    return changed


def _drop_retries(obj: Object) -> bool:
    changed = False
    for route in http_routes(obj):
        # attempts 0 disables retries; leaving the field out would give Istio's default policy
        if (route.get("retries") or {}).get("attempts", 0) != 0:
            route["retries"] = {"attempts": 0}
            changed = True
    return changed


def _drop_outlier_detection(obj: Object) -> bool:
    return any([p.pop("outlierDetection", None) is not None for p in list(traffic_policies(obj))])


def _max_ejection_below_one_host(obj: Object) -> bool:
    changed = False
    for policy in traffic_policies(obj):
        outlier = policy.get("outlierDetection")
        if outlier is not None and outlier.get("maxEjectionPercent", 10) > 1:
            outlier["maxEjectionPercent"] = 1  # under one host's share: none can be ejected
            changed = True
    return changed


def _drop_connection_pool(obj: Object) -> bool:
    return any([p.pop("connectionPool", None) is not None for p in list(traffic_policies(obj))])


def _even_weights(obj: Object) -> bool:
    changed = False
    for route in http_routes(obj):
        destinations = route.get("route") or []
        weights = [d.get("weight", 0) for d in destinations]
        if len(destinations) > 1 and len(set(weights)) > 1:
            share = 100 // len(destinations)
            for index, destination in enumerate(destinations):
                destination["weight"] = share + (
                    100 - share * len(destinations) if not index else 0
                )
            changed = True
    return changed


def _drop_header_match(obj: Object) -> bool:
    changed = False
    for route in http_routes(obj):
        for match in route.get("match") or []:
            changed |= match.pop("headers", None) is not None
    return changed


def _drop_mirror(obj: Object) -> bool:
    changed = False
    for route in http_routes(obj):
        changed |= route.pop("mirror", None) is not None
        route.pop("mirrorPercentage", None)
        changed |= route.pop("mirrors", None) is not None
    return changed


def _halve_fault_percent(obj: Object) -> bool:
    changed = False
    for route in http_routes(obj):
        for part in ((route.get("fault") or {}).get(k) for k in ("delay", "abort")):
            if part and "percentage" in part:
                part["percentage"]["value"] = part["percentage"].get("value", 100) / 2
                changed = True
    return changed


def _drop_consistent_hash(obj: Object) -> bool:
    changed = False
    for policy in traffic_policies(obj):
        balancer = policy.get("loadBalancer") or {}
        if "consistentHash" in balancer:
            policy["loadBalancer"] = {"simple": "ROUND_ROBIN"}
            changed = True
    return changed


def _default_load_balancer(obj: Object) -> bool:
    """A chosen simple balancer falls back to Istio's default (LEAST_REQUEST)."""
    changed = False
    for policy in traffic_policies(obj):
        balancer = policy.get("loadBalancer") or {}
        if balancer.get("simple") not in (None, "LEAST_REQUEST", "LEAST_CONN"):
            del balancer["simple"]
            if not balancer:
                del policy["loadBalancer"]
            changed = True
    return changed


def _drop_gateway_tls(obj: Object) -> bool:
    changed = False
    if obj.get("kind") == "Gateway":
        for server in (obj.get("spec") or {}).get("servers") or []:
            if server.pop("tls", None) is not None:
                server["port"]["protocol"] = "HTTP"
                changed = True
    return changed


_REMOVALS: dict[str, tuple[Callable[[Object], bool], str]] = {
    "drop-timeout": (_drop_timeout, "remove VirtualService timeouts and perTryTimeouts"),
    "drop-retries": (_drop_retries, "set retries.attempts to 0"),
    "drop-outlier-detection": (_drop_outlier_detection, "remove outlierDetection"),
    "max-ejection-below-one-host": (
        _max_ejection_below_one_host,
        "lower maxEjectionPercent to 1, below one host's share",
    ),
    "drop-connection-pool": (_drop_connection_pool, "remove connectionPool limits"),
    "even-weights": (_even_weights, "make uneven route weights equal"),
    "drop-header-match": (_drop_header_match, "remove header conditions from matches"),
    "drop-mirror": (_drop_mirror, "remove mirroring"),
    "halve-fault-percent": (_halve_fault_percent, "halve fault percentages"),
    "drop-consistent-hash": (_drop_consistent_hash, "replace consistent hashing by round robin"),
    "default-load-balancer": (
        _default_load_balancer,
        "replace a chosen simple load balancer by Istio's default, LEAST_REQUEST",
    ),
    "drop-gateway-tls": (_drop_gateway_tls, "serve the gateway's TLS ports as plain HTTP"),
}


@dataclass(frozen=True)
class Operator:
    weaken: Callable[[Object], bool]
    description: str
    # "removal": the protection is gone; "partial": it stays, set looser
    kind: Literal["removal", "partial"]

    @property
    def partial(self) -> bool:
        return self.kind == "partial"


OPERATORS: dict[str, Operator] = {
    **{name: Operator(f, text, "removal") for name, (f, text) in _REMOVALS.items()},
    **{name: Operator(f, text, "partial") for name, (f, text) in PARTIAL_WEAKENINGS.items()},
}


def _prune_empty_policies(obj: Object) -> None:
    """Remove traffic policies a weakening emptied. Istio rejects an empty trafficPolicy
    ("traffic policy must have at least one field"), and a mutant refused at apply time
    would count as caught without any experiment having observed the weakening."""
    if obj.get("kind") != "DestinationRule":
        return
    spec = obj.get("spec") or {}
    for holder in [spec, *(spec.get("subsets") or [])]:
        policy = holder.get("trafficPolicy")
        if not isinstance(policy, dict):
            continue
        ports = [p for p in policy.get("portLevelSettings") or [] if set(p) - {"port"}]
        if ports:
            policy["portLevelSettings"] = ports
        else:
            policy.pop("portLevelSettings", None)
        if not policy:
            del holder["trafficPolicy"]


def mutate(obj: Object, name: str) -> Object | None:
    """``obj`` weakened by operator ``name``, or ``None`` if the operator does not apply."""
    weakened = copy.deepcopy(obj)
    if not OPERATORS[name].weaken(weakened):
        return None
    _prune_empty_policies(weakened)
    return weakened


def applicable(objects: list[Object]) -> list[str]:
    return [name for name in OPERATORS if any(mutate(o, name) is not None for o in objects)]


def declared_uncatchable(declared: object, experiment: str) -> dict[str, str]:
    """Check an experiment's ``@pytest.mark.chaos(uncatchable={operator: why})``.

    Only a partial weakening may be declared: a removed protection must always be noticed.
    The reason is required, since it is what the mutation report prints instead of a miss.
    """
    fix = (
        "write uncatchable={'shift-weights': 'cannot tell 80/20 from 90/10 at n=1200'}, "
        "naming partial weakenings: " + ", ".join(n for n, o in OPERATORS.items() if o.partial)
    )
    if not isinstance(declared, dict):
        raise ConfigError(
            f"{experiment}: chaos(uncatchable=...) must map operator names to reasons, "
            f"got {type(declared).__name__}; {fix}"
        )
    checked: dict[str, str] = {}
    for name, why in declared.items():
        operator = OPERATORS.get(name) if isinstance(name, str) else None
        if operator is None:
            raise ConfigError(
                f"{experiment}: chaos(uncatchable=...) names {name!r}, no operator; {fix}"
            )
        if not operator.partial:
            raise ConfigError(
                f"{experiment}: chaos(uncatchable=...) names {name!r}, a removal; every "
                "experiment must catch the removal of its protection, so only partial "
                f"weakenings can be declared uncatchable; {fix}"
            )
        if not isinstance(why, str) or not why.strip():
            raise ConfigError(
                f"{experiment}: chaos(uncatchable=...) gives no reason for {name!r}; say why "
                "this experiment cannot catch it (e.g. at which n it cannot tell them apart)"
            )
        checked[name] = why.strip()
    return checked
