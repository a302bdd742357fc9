"""An experiment's per-second series, merged so that no chart gets more than 300 points.

Long runs would otherwise put tens of thousands of points in the page. Consecutive points
of one window are merged in equal groups (never across windows): requests and errors are
summed, p50 becomes the request-weighted mean of the merged p50s and p99 the largest
merged p99, so a latency spike stays visible. Window tables show the exact summary
numbers from the results file, not these.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 300


@dataclass(frozen=True, slots=True)
class Point:
    """One series point: ``n`` requests (``errors`` of them failed) over ``span`` seconds."""

    t: float
    n: int
    errors: int
    p50: float | None
    p99: float | None
    span: float

    @property
    def success_rate(self) -> float | None:
        return (self.n - self.errors) / self.n if self.n else None

    @property
    def throughput(self) -> float:
        return self.n / self.span if self.span > 0 else 0.0


def window_points(window: Mapping[str, Any]) -> list[Point]:
    """The window's series as points, in time order, each with the span it covers."""
    raw = sorted(window["series"], key=lambda p: float(p["t"]))
    times = [float(p["t"]) for p in raw]
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    if gaps:
        step = statistics.median(gaps)
    else:
        step = max(float(window["end"]) - float(window["start"]), 1.0) if raw else 1.0
    return [
        Point(
            t=float(p["t"]),
            n=int(p["n"]),
            errors=int(p["errors"]),
            p50=_finite(p["p50"]),
            p99=_finite(p["p99"]),
            span=step,
        )
        for p in raw
    ]


def _finite(value: object) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def merge(points: Sequence[Point]) -> Point:
    """One point standing for ``points`` (see the module docstring for the rules)."""
    n = sum(p.n for p in points)
    weighted = [(p.p50, p.n) for p in points if p.p50 is not None]
    weight = sum(w for _, w in weighted)
    if weight:
        p50: float | None = sum(v * w for v, w in weighted) / weight
    elif weighted:
        p50 = statistics.fmean(v for v, _ in weighted)
    else:
        p50 = None
    p99s = [p.p99 for p in points if p.p99 is not None]
    return Point(
        t=statistics.fmean(p.t for p in points),
        n=n,
        errors=sum(p.errors for p in points),
        p50=p50,
        p99=max(p99s) if p99s else None,
        span=sum(p.span for p in points),
    )


def downsample(windows: Sequence[Sequence[Point]], limit: int = MAX_POINTS) -> list[list[Point]]:
    """Merge groups of ``k`` points per window, ``k`` the smallest that fits in ``limit``.

    One slot per gap between windows is kept free: charts break the line there.
    """
    sizes = [len(w) for w in windows if w]
    room = max(1, limit - max(0, len(sizes) - 1))
    k = max(1, math.ceil(sum(sizes) / room))
    while sum(math.ceil(s / k) for s in sizes) > room:
        k += 1
    if k == 1:
        return [list(w) for w in windows]
    return [[merge(w[i : i + k]) for i in range(0, len(w), k)] for w in windows]
