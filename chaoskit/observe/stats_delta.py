"""Sidecar counters that changed during an experiment (Envoy ``/stats?format=json``)."""

from __future__ import annotations

import json
from typing import Any


def parse_stats(text: str) -> dict[str, int]:
    data: Any = json.loads(text)
    return {s["name"]: int(s["value"]) for s in data.get("stats", []) if "value" in s}


def counter_deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Names whose value changed, with the change (gauges included: their net change)."""
    return {
        name: value - before.get(name, 0)
        for name, value in sorted(after.items())
        if value != before.get(name, 0)
    }
