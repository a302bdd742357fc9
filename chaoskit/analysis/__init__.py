"""``istioctl analyze`` for chaoskit: located, coded findings about Istio resources."""

from __future__ import annotations

from chaoskit.analysis.analyzer import AnalysisResult, analyze_paths, analyze_resources
from chaoskit.analysis.messages import MESSAGE_TYPES, Level, Message, MessageType

__all__ = [
    "AnalysisResult",
    "Level",
    "MESSAGE_TYPES",
    "Message",
    "MessageType",
    "analyze_paths",
    "analyze_resources",
]
