"""Experiments: faults with rollback (``Chaos``), load windows (``LoadDriver``), records."""

from __future__ import annotations

from chaoskit.experiment.chaos import Chaos, Fault, FaultNotInEffect
from chaoskit.experiment.driver import LoadDriver
from chaoskit.experiment.record import ExperimentRecord

__all__ = ["Chaos", "ExperimentRecord", "Fault", "FaultNotInEffect", "LoadDriver"]
