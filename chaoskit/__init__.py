"""Chaos experiments for Istio service meshes, written as pytest tests."""

from __future__ import annotations

from chaoskit.errors import (
    BackendError,
    ChaoskitError,
    ConfigError,
    EmulatorError,
    ReadinessTimeout,
    ResourceLoadError,
    ResourceValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "ChaoskitError",
    "ConfigError",
    "EmulatorError",
    "ReadinessTimeout",
    "ResourceLoadError",
    "ResourceValidationError",
    "__version__",
]
