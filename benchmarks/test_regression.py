"""The benchmark suite's regression guard (run by ``make bench``, not ``make test``).

Fails when the data plane's CPU cost, as a ratio to the reference measured in the same run
(benchmarks/ratios.py), is more than 20% above the stored reference ratio. After a change
that is meant to cost more, store new references with ``python -m benchmarks.ratios
--write`` and say why in the commit.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from benchmarks.ratios import REFERENCE, measure

TOLERANCE = 1.20  # a later change may lose up to 20% against the reference ratio


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/stat")
def test_the_data_plane_costs_no_more_than_its_reference_ratios() -> None:
    stored: dict[str, float] = json.loads(REFERENCE.read_text())
    # The ratios hold across machines, not across heavy contention: with many more runnable
    # processes than cores, a request crossing ten processes is preempted more often than
    # the reference's single hop. Measured on 2 cores (proxy, /productpage): 2.75 to 2.91 and
    # 25.4 to 26.2 at load average 2 to 4; 3.29 to 3.59 and 31.6 to 34.7 at 4 to 7; 3.35 and
    # 29.1 at 7 to 10 (the stored reference); 34 to 37 for /productpage at 15.
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    if load > 4 * cores:
        pytest.skip(f"1-minute load average {load:.1f} on {cores} cores: too busy to compare")
    measured = measure()
    lost = {
        name: f"{measured[name]:.2f} against {reference:.2f}"
        for name, reference in stored.items()
        if measured[name] > reference * TOLERANCE
    }
    print(json.dumps({"measured": measured, "reference": stored}, indent=2))
    assert not lost, f"more than {TOLERANCE - 1:.0%} over the reference ratio: {lost}"
