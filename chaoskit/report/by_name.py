"""Per-request-name charts of one window, as Locust's own report draws its statistics per
name: response time and requests per second over time, one line per request name.

Drawn for windows whose load was a Locust user class (``series_by_name`` in results.json).
Each name is a line; four colours and two line styles tell eight names apart without
relying on colour alone (the rest are one line, "(other names)").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chaoskit.report import fmt
from chaoskit.report.charts import ChartSet, line, r
from chaoskit.report.markup import esc, table
from chaoskit.report.series import Point, window_points

# Colours cycle every 4 series (report.js); the line style changes after each cycle.
COLOURS = 4


def by_name_charts(
    experiment: Mapping[str, Any],
    rel: Callable[[float], float],
    charts: ChartSet,
    bands: list[dict[str, Any]],
    level: int,
) -> str:
    """A latency and a throughput chart per user-class window, with their data table.
    ``rel`` maps epoch seconds onto the experiment's time axis."""
    parts = []
    for window in experiment["windows"]:
        series = window.get("series_by_name") or {}
        if not series:
            continue
        points = {
            name: window_points({"series": pts, "start": window["start"], "end": window["end"]})
            for name, pts in series.items()
        }
        parts.append(_window_figures(window, points, rel, charts, bands))
    if not parts:
        return ""
    return (
        f"<h{level}>Requests by name over time</h{level}>"
        '<p class="muted">One line per request name (Locust\'s grouping, <code>name=</code> '
        "included): p50 latency and requests per second, per second of the window.</p>"
        + "".join(parts)
    )


def _window_figures(
    window: Mapping[str, Any],
    points: dict[str, list[Point]],
    rel: Callable[[float], float],
    charts: ChartSet,
    bands: list[dict[str, Any]],
) -> str:
    label = str(window["label"])
    p50s = [p.p50 for pts in points.values() for p in pts if p.p50 is not None]
    scale, unit = (1.0, "s") if p50s and max(p50s) >= 1.0 else (1000.0, "ms")
    x_axis = {
        "title": "seconds since the experiment started",
        "min": r(rel(float(window["start"])), 3),
        "max": r(rel(float(window["end"])), 3),
    }

    def series(get: Callable[[Point], float | None]) -> list[dict[str, Any]]:
        return [
            line(name, index // COLOURS, [[r(rel(p.t), 3), get(p)] for p in pts])
            for index, (name, pts) in enumerate(points.items())
        ]

    latency = {
        "kind": "line",
        "x": x_axis,
        "y": {"title": f"p50 latency ({unit})", "min": 0},
        "series": series(lambda p: r(p.p50 * scale if p.p50 is not None else None)),
        "bands": bands,
    }
    throughput = {
        "kind": "line",
        "x": x_axis,
        "y": {"title": "requests per second", "min": 0},
        "series": series(lambda p: r(p.throughput, 3)),
        "bands": bands,
    }
    names = ", ".join(points)
    slowest = max(
        points,
        key=lambda n: max((p.p50 or 0.0 for p in points[n]), default=0.0),
    )
    figures = [
        charts.figure(
            latency,
            f"Window {label}: p50 latency per request name ({unit})",
            f"Line chart of the p50 latency of each request name in window {label} ({names}); "
            f"the highest is {slowest}'s. The data table below lists every point.",
        ),
        charts.figure(
            throughput,
            f"Window {label}: requests per second per request name",
            f"Line chart of the requests per second of each request name in window {label} "
            f"({names}). The data table below lists every point.",
        ),
    ]
    data = _data_table(label, points, rel, scale, unit)
    return f'<div class="charts">{"".join(figures)}</div>{data}'


def _data_table(
    label: str,
    points: dict[str, list[Point]],
    rel: Callable[[float], float],
    scale: float,
    unit: str,
) -> str:
    rows = [
        [
            esc(f"{rel(p.t):.1f}"),
            f"<code>{esc(name)}</code>",
            esc(fmt.number(p.n)),
            esc(fmt.number(p.errors)),
            esc(f"{p.throughput:.3g}"),
            esc(fmt.DASH if p.p50 is None else f"{p.p50 * scale:.4g}"),
            esc(fmt.DASH if p.p99 is None else f"{p.p99 * scale:.4g}"),
        ]
        for name, pts in points.items()
        for p in pts
    ]
    return (
        f"<details><summary>Data table for window {esc(label)}'s per-name charts</summary>"
        + table(
            ["t (s)", "Name", "Requests", "Errors", "rps", f"p50 ({unit})", f"p99 ({unit})"],
            rows,
            caption=f"Every charted point of window {label}, per request name",
            numeric=[True, False, True, True, True, True, True],
            css="wide",
        )
        + "</details>"
    )
