"""False alarms: a passing experiment, repeated with different seeds, must not fail more
often than the configured alpha.

The experiment is the suite's canary check (a 90/10 split judged with the suite's ±4-point
equivalence band at 95% confidence, and a 95% success rate) on a one-second window, run 20
times in each of three sessions with different ``--chaos-seed`` values (a fresh mesh and
fresh fault and balancer draws each). With alpha = 0.05, 60 repetitions without a false
FAIL put the false-failure rate below 5% with 95% confidence (Clopper-Pearson); an
inconclusive repetition is counted and reported, but it is not a failure: it never passes
either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaoskit.stats import clopper_pearson_interval

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "experiments" / "resources"
SEEDS = (11, 12, 13)
PER_SEED = 20
REPETITIONS = PER_SEED * len(SEEDS)
ALPHA = 0.05

EXPERIMENT = f'''
import pytest

@pytest.mark.parametrize("repetition", range({PER_SEED}))
def test_canary(chaos, load, repetition):
    chaos.apply("{RESOURCES}/seed/02-canary.yaml")
    window = load.run("/", service="my-service:80", rate=500.0, duration="1s")
    window.success_rate().at_least(0.95)
    window.share(version="canary").matches(0.10, tolerance=0.04)
'''


@pytest.mark.slow
def test_false_failure_rate_stays_below_alpha(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makefile(
        ".ini",
        pytest="[pytest]\naddopts = -p no:locust -p no:cacheprovider\n",
    )
    pytester.makepyfile(test_repeat=EXPERIMENT)
    experiments = []
    for seed in SEEDS:
        report = tmp_path / f"seed-{seed}"
        pytester.runpytest_subprocess(f"--chaos-report={report}", f"--chaos-seed={seed}")
        experiments += json.loads((report / "results.json").read_text())["experiments"]
    outcomes = [e["outcome"] for e in experiments]
    why = [e["message"][:300] for e in experiments if e["outcome"] != "held"]
    assert len(outcomes) == REPETITIONS
    failures = outcomes.count("failed") + outcomes.count("error")
    upper = clopper_pearson_interval(failures, REPETITIONS, 0.90).high  # one-sided 95%
    assert upper <= ALPHA, f"{failures} false failures in {REPETITIONS} (up to {upper:.1%}): {why}"
    # Decisive often enough: a window too short to judge would make this test vacuous. At
    # n = 500 the ±4-point check passes about 69% of the time (41 of 60 expected, sd 3.6);
    # a third is far below that, so this bound cannot flake.
    assert outcomes.count("held") >= REPETITIONS // 3, why
