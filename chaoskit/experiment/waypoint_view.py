"""The Istio objects an experiment applied, as a waypoint runs them.

A waypoint translates a VirtualService as a sidecar does, but it is the proxy whose labels
``sourceLabels`` are matched against, so a match scoped to the callers' labels never applies
there (``sourceMatchHTTP``, pilot/pkg/networking/core/route/route.go, tag 1.30.3), and a rule
all of whose matches are so scoped is never taken. A weakening of such a rule changes nothing
an ambient mesh runs: for an experiment run in ambient mode it is an *equivalent* mutant,
which no experiment could catch, so ``chaoskit mutate`` does not count it.
"""

from __future__ import annotations

import copy
from typing import Any

Object = dict[str, Any]


def as_a_waypoint_runs(objects: list[Object]) -> list[Object]:
    """``objects`` with the HTTP rules a waypoint skips left out (copies; others as they are)."""
    out = []
    for obj in objects:
        if obj.get("kind") != "VirtualService" or not (obj.get("spec") or {}).get("http"):
            out.append(obj)
            continue
        seen = copy.deepcopy(obj)
        rules = []
        for rule in seen["spec"]["http"]:
            matches = rule.get("match")
            if matches:
                kept = [m for m in matches if not (m or {}).get("sourceLabels")]
                if not kept:
                    continue  # every match is scoped to callers' labels: never taken
                rule["match"] = kept
            rules.append(rule)
        seen["spec"]["http"] = rules
        out.append(seen)
    return out
