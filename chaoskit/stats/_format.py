"""Numbers as a person reads them in a verdict line: 97.2%, 212ms, 1.31×, 1.5 pp."""

from __future__ import annotations

import math
from typing import Literal

Unit = Literal["rate", "seconds", "ratio", "points", "count"]


def _decimals_of(number: float) -> int:
    text = f"{number:.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def _percent_number(value: float, decimals: int) -> str:
    return f"{value * 100:.{decimals}f}"


def _seconds(value: float, significant: int) -> str:
    if value == math.inf:
        return "∞"
    if value == -math.inf:
        return "-∞"
    if value == 0.0:
        return "0s"
    magnitude = abs(value)
    scale, suffix = 1e-9, "ns"
    for candidate, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if magnitude >= candidate:
            scale, suffix = candidate, name
            break
    scaled = value / scale
    places = max(0, significant - 1 - math.floor(math.log10(abs(scaled))))
    text = f"{scaled:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + suffix


def _plain(value: float, unit: Unit, precision: int) -> str:
    """``value`` without the unit sign for rates and points (the caller adds it once)."""
    if value == math.inf:
        return "∞"
    if value == -math.inf:
        return "-∞"
    if unit in ("rate", "points"):
        return f"{value * 100:.{precision}f}"
    if unit == "ratio":
        return f"{value:.{precision + 2}g}"
    if unit == "count":
        return f"{value:g}"
    return _seconds(value, precision + 2)


_SUFFIX = {"rate": "%", "points": " pp", "ratio": "×", "seconds": "", "count": ""}


def threshold_text(value: float, unit: Unit) -> str:
    """A threshold as written by a person: 95%, 99.95%, 250ms, 1.5×, 2 pp."""
    if unit in ("rate", "points"):
        return f"{_percent_number(value, _decimals_of(value * 100))}{_SUFFIX[unit]}"
    if unit == "ratio":
        return f"{value:g}×"
    if unit == "count":
        return f"{value:g}"
    return _seconds(value, 6)


def _misleading(value: float, unit: Unit, precision: int, target: str, threshold: float) -> bool:
    text = _plain(value, unit, precision)
    # 100.0% for a rate below 1, or 0.0% for one above 0, would hide every failure.
    if (
        unit == "rate"
        and math.isfinite(value)
        and ((value < 1.0 and float(text) >= 100.0) or (value > 0.0 and float(text) <= 0.0))
    ):
        return True
    if value == threshold or not math.isfinite(value):
        return False
    # "95.0% ≥ 95%: FAIL" would read as a contradiction.
    if unit in ("rate", "points"):
        return math.isclose(float(text), threshold * 100, rel_tol=1e-12, abs_tol=1e-12)
    if unit == "ratio":
        return math.isclose(float(text), threshold, rel_tol=1e-12)
    return text == target


def precision_for(threshold: float, unit: Unit, values: tuple[float, ...] = ()) -> int:
    """Digits for the observed ``values`` shown next to ``threshold``.

    As many decimals as the threshold shows (at least one); more while a value would
    print as 100.0% without being 1, as 0.0% without being 0, or exactly as the threshold
    without being equal to it.
    """
    precision = max(1, _decimals_of(threshold * 100)) if unit in ("rate", "points") else 1
    target = threshold_text(threshold, unit)
    while precision < 6 and any(_misleading(v, unit, precision, target, threshold) for v in values):
        precision += 1
    return precision


def value_text(value: float, unit: Unit, precision: int) -> str:
    """An observed value with its unit."""
    return _plain(value, unit, precision) + _SUFFIX[unit]


def range_text(low: float, high: float, unit: Unit, precision: int) -> str:
    """``96.1–98.0%``, ``198ms–240ms``, ``-0.3 to 2.8 pp``: the unit once for rates."""
    lo, hi = _plain(low, unit, precision), _plain(high, unit, precision)
    joiner = " to " if lo.startswith("-") or hi.startswith("-") else "–"
    if unit == "seconds" or not math.isfinite(high):
        return f"{lo}{joiner}{hi}"
    return f"{lo}{joiner}{hi}{_SUFFIX[unit]}"
