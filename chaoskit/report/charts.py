"""Chart specifications for the page script, and the ``<figure>`` each one draws into.

The page embeds every spec in one JSON block; ``assets/report.js`` hands them to Chart.js.
A spec is plain data (numbers and short strings), so it never carries markup: text in it
is shown by Chart.js on a canvas, where it cannot become HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chaoskit.report.markup import attrs, esc

# Line styles, in order: solid, dashed, dotted, dash-dot (the script maps them to dashes and
# point shapes, so series differ without colour).
SOLID, DASHED, DOTTED, DASH_DOT = 0, 1, 2, 3


def r(value: float | None, digits: int = 4) -> float | None:
    """Round for the page (the JSON is smaller); keeps ``None`` and drops non-finite."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


@dataclass
class ChartSet:
    """The charts of one page; ``add`` returns the canvas id a figure must use."""

    specs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, spec: dict[str, Any]) -> str:
        chart_id = f"chart-{len(self.specs) + 1}"
        self.specs[chart_id] = spec
        return chart_id

    def figure(self, spec: dict[str, Any], caption: str, description: str) -> str:
        """A captioned canvas for ``spec``; ``description`` is its accessible name.

        The canvas's fallback content repeats the description for browsers without canvas.
        """
        chart_id = self.add(spec)
        return (
            f'<figure class="chart"><figcaption id="{chart_id}-cap">{esc(caption)}</figcaption>'
            f'<div class="chart-box"><canvas{attrs(id=chart_id, role="img")}'
            f"{attrs(aria_label=description, aria_describedby=f'{chart_id}-cap')}"
            f' data-chart="{chart_id}">{esc(description)}</canvas></div></figure>'
        )


def band(start: float, end: float, label: str, *, open_ended: bool = False) -> dict[str, Any]:
    """A shaded period on a time axis (a fault in force)."""
    return {"from": r(start, 3), "to": r(end, 3), "label": label, "open": open_ended}


def line(label: str, style: int, data: Sequence[Any]) -> dict[str, Any]:
    """A series: ``[x, y]`` pairs on a time axis, or one ``y`` per label on a trend."""
    return {"label": label, "style": style, "data": list(data)}


# A fault's label is about a fifth of a chart's width: labels of bands that start closer
# than that share no row.
LABEL_SHARE = 0.2


def stack_labels(bands: list[dict[str, Any]], span: float) -> list[dict[str, Any]]:
    """Give each band's label a ``row`` in the strip above the plot, so labels of faults
    applied at (nearly) the same moment are drawn one above the other, not on top of each
    other. ``span`` is the time axis's length."""
    gap = max(span, 1e-9) * LABEL_SHARE
    last_start: list[float] = []  # per row: where its latest label starts
    for item in sorted(bands, key=lambda b: b["from"]):
        row = next((i for i, start in enumerate(last_start) if item["from"] - start >= gap), None)
        if row is None:
            row = len(last_start)
            last_start.append(item["from"])
        else:
            last_start[row] = item["from"]
        item["row"] = row
    return bands
