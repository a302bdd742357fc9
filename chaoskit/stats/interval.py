"""A confidence interval: two bounds, the confidence they were built for, and how."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interval:
    """``[low, high]`` at ``confidence``; a bound that the data cannot give is infinite.

    ``method`` names the construction (``"wilson"``, ``"clopper-pearson"``,
    ``"order statistics"``, ...) so a report can say how the numbers were obtained.
    """

    low: float
    high: float
    confidence: float
    method: str = ""

    def __post_init__(self) -> None:
        if math.isnan(self.low) or math.isnan(self.high):
            raise ValueError(f"an interval bound is NaN: [{self.low}, {self.high}]")
        if self.low > self.high:
            raise ValueError(f"an interval needs low <= high, got [{self.low}, {self.high}]")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must be strictly between 0 and 1: {self.confidence}")

    @property
    def bounded_below(self) -> bool:
        return math.isfinite(self.low)

    @property
    def bounded_above(self) -> bool:
        return math.isfinite(self.high)

    @property
    def width(self) -> float:
        """``high - low``; infinite when either side is unbounded."""
        return self.high - self.low

    def contains(self, value: float) -> bool:
        """Whether ``low <= value <= high`` (closed on both ends)."""
        return self.low <= value <= self.high

    def __str__(self) -> str:
        how = f" {self.method}" if self.method else ""
        return f"[{self.low:.6g}, {self.high:.6g}] ({self.confidence:.6g}{how})"
