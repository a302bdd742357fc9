"""The benchmark suite's regression guard (run by ``make bench``, not ``make test``).

Fails when the data plane's CPU cost, as a ratio to the reference measured in the same run
(benchmarks/ratios.py), is more than 20% above the stored reference ratio. After a change
that is meant to cost more, store new references with ``python -m benchmarks.ratios
--write`` and say why in the commit.
"""

from __future__ import annotations

import json
import sys

import pytest

from benchmarks.ratios import REFERENCE, measure

TOLERANCE = 1.20  # a later change may lose up to 20% against the reference ratio


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/stat")
def test_the_data_plane_costs_no_more_than_its_reference_ratios() -> None:
    stored: dict[str, float] = json.loads(REFERENCE.read_text())
    measured = measure()
    lost = {
        name: f"{measured[name]:.2f} against {reference:.2f}"
        for name, reference in stored.items()
        if measured[name] > reference * TOLERANCE
    }
    print(json.dumps({"measured": measured, "reference": stored}, indent=2))
    assert not lost, f"more than {TOLERANCE - 1:.0%} over the reference ratio: {lost}"
