"""Observation: windows of load, the ejection timeline, fault proof and sidecar stat deltas."""

from __future__ import annotations

from chaoskit.observe.ejections import Ejection, EjectionSampler, EjectionTimeline
from chaoskit.observe.requestlog import RequestLog
from chaoskit.observe.window import Window

__all__ = ["Ejection", "EjectionSampler", "EjectionTimeline", "RequestLog", "Window"]
