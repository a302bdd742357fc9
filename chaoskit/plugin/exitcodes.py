"""The exit status of a run, telling the four experiment outcomes apart.

pytest exits 1 for any failed test. For experiments that conflates "the mesh is not
resilient" with "the experiment is broken" and "not enough data", so the controller
replaces pytest's status once every result is in:

====  ==================================================================================
0     every experiment held (or was skipped); with ``--chaos-strict`` off, inconclusive
      ones too (they are shown as INCONCLUSIVE and written to JUnit as skipped)
1     an experiment FAILED, or a test that is not an experiment failed (pytest's own)
10    no failure, but an experiment is an ERROR: it never reached a verdict
11    no failure or error, but an experiment is INCONCLUSIVE and ``--chaos-strict`` is on
====  ==================================================================================

pytest's own statuses (interrupted, usage error, internal error, no tests) are kept.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

EXPERIMENT_ERROR = 10
INCONCLUSIVE = 11


def exit_status(
    pytest_status: int, outcomes: Iterable[str], other_failures: int, strict: bool
) -> int:
    """The status for a run whose experiments ended with ``outcomes`` and in which
    ``other_failures`` reports failed for reasons other than an experiment's ERROR or
    INCONCLUSIVE (a FAILED check, or a test that is not an experiment)."""
    if pytest_status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return pytest_status
    seen = set(outcomes)
    if other_failures or "failed" in seen:
        return int(pytest.ExitCode.TESTS_FAILED)
    if "error" in seen:
        return EXPERIMENT_ERROR
    if "inconclusive" in seen and strict:
        return INCONCLUSIVE
    return int(pytest.ExitCode.OK)
