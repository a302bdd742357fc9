"""A mutant run goes on past a failed check, so that every check the weakening flips is
recorded (``chaoskit mutate`` reports them all, not only the first).

The experiment's record defers each FAIL and INCONCLUSIVE (``ExperimentRecord.defer``);
when the test ends, the first one deferred is raised, so the outcome is the one an
ordinary run would have reached: decided by the first check that did not pass.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from chaoskit.plugin.state import RECORD


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    record = item.stash.get(RECORD, None)
    # The record's own list (filled while the test runs), not a copy.
    deferred: list[Exception] = record.deferred if record is not None else []
    try:
        result = yield
    except BaseException as exc:
        # Something ended the test after a deferred check (a bare assert, an error from
        # code that relied on what the check was about, a skip): the deferred check came
        # first, so it decides, as it would have in an ordinary run. A safety stop, an
        # interrupt or pytest.exit still stop.
        stops = (KeyboardInterrupt, SystemExit, pytest.exit.Exception)
        if deferred and not isinstance(exc, stops) and type(exc).__name__ != "RunAborted":
            raise deferred[0] from exc
        raise
    if deferred:
        raise deferred[0]
    return result
