"""What the plugin keeps in ``config.stash``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chaoskit.experiment.session import ChaosSession, Settings


@dataclass
class PluginState:
    settings: Settings
    reporting: bool  # write results.json, JUnit XML and the report at the end
    strict: bool = False  # an INCONCLUSIVE experiment makes the run exit non-zero
    session: ChaosSession | None = None
    # The meshes of data planes other than the run's (``dataplanes`` marker), by plane, or
    # why one did not start.
    planes: dict[str, ChaosSession | str] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> experiment
    order: dict[str, int] = field(default_factory=dict)  # node id -> place in the collection
    written: str | None = None
    mesh: dict[str, Any] = field(default_factory=dict)
    # The session's last mesh description, kept when it closes: the last item's teardown
    # report is made after the session fixture is gone, and must still carry its notices.
    closed_mesh: dict[str, Any] | None = None
    pending: dict[str, Any] = field(default_factory=dict)  # records not yet reported
    started: float = field(default_factory=time.time)


STATE = pytest.StashKey[PluginState]()
RECORD = pytest.StashKey[Any]()  # the ExperimentRecord of an item
