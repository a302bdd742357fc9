"""Load through Locust in child processes: closed and open models, per-request records."""

from __future__ import annotations

from chaoskit.load.profile import LoadProfile
from chaoskit.load.records import RequestRecord
from chaoskit.load.runner import LoadError, LoadResult, run_load

__all__ = ["LoadError", "LoadProfile", "LoadResult", "RequestRecord", "run_load"]
