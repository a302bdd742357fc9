"""Shared fixtures for chaoskit's own tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _chaoskit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Meshes, logs and cluster state of this run go under its temporary directory, never
    into the user's ~/.chaoskit (child processes inherit the variable)."""
    home = tmp_path_factory.mktemp("chaoskit-home")
    before = os.environ.get("CHAOSKIT_HOME")
    os.environ["CHAOSKIT_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("CHAOSKIT_HOME", None)
    else:
        os.environ["CHAOSKIT_HOME"] = before


@pytest.fixture
def repo() -> Path:
    return REPO
