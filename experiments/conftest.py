"""Shared bits of the experiment suite: where the Istio YAML lives."""

from __future__ import annotations

from pathlib import Path

import pytest

RESOURCES = Path(__file__).resolve().parent / "resources"


@pytest.fixture
def resources() -> Path:
    return RESOURCES
