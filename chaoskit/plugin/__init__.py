"""pytest plugin for chaos experiments (registered through the ``pytest11`` entry point).

It must stay cheap to import: heavy modules load inside the fixtures that need them.
Options and ini keys are in :mod:`chaoskit.plugin.options`; fixtures in
:mod:`chaoskit.plugin.fixtures`; outcomes, results and the terminal summary in
:mod:`chaoskit.plugin.results`.
"""

from __future__ import annotations

from chaoskit.plugin.dataplanes import (
    _chaos_other_planes,
    chaos_dataplane,
    chaos_plane_mesh,
    pytest_generate_tests,
)
from chaoskit.plugin.fixtures import chaos, chaos_mesh, chaos_samples, experiment, load, resources
from chaoskit.plugin.keep_going import pytest_runtest_call
from chaoskit.plugin.options import pytest_addoption, pytest_configure, pytest_unconfigure
from chaoskit.plugin.results import (
    pytest_report_teststatus,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

__all__ = [
    "_chaos_other_planes",
    "chaos",
    "chaos_dataplane",
    "chaos_mesh",
    "chaos_plane_mesh",
    "chaos_samples",
    "experiment",
    "load",
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_teststatus",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "resources",
]
