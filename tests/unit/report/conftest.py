"""Fixture runs for the report tests (tests/data/results), fresh copies per test."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.unit.report.helpers import HOSTILE, LATEST, OLDER, read


@pytest.fixture
def latest() -> dict[str, Any]:
    return copy.deepcopy(read(LATEST))


@pytest.fixture
def older() -> dict[str, Any]:
    return copy.deepcopy(read(OLDER))


@pytest.fixture
def hostile() -> dict[str, Any]:
    return copy.deepcopy(read(HOSTILE))
