"""Assertions that fail only on evidence: a FAIL raises ``AssertionError``, too little
evidence raises :class:`Inconclusive` (an error, never a pass)."""

from __future__ import annotations

from chaoskit.assertions.checks import (
    Inconclusive,
    JudgementSink,
    LatencyMetric,
    RateMetric,
    settle,
)

__all__ = ["Inconclusive", "JudgementSink", "LatencyMetric", "RateMetric", "settle"]
