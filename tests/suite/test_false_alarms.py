"""False alarms, end to end: with the true share on the edge of the band, where a false FAIL
is most likely, the suite's checks FAIL at most α/2 of the time; and a miscalibrated
interval, judged on the same windows, is caught.

The experiment routes 90/10 between my-service's stable and canary subsets and judges the
canary share against the band 6% ± 4%: the true 10% is the band's upper edge, so every
FAIL is a false alarm and its probability is at its largest (α/2 = 2.5% at most, about 2%
at n = 500, summed exactly in ``tests/unit/stats/test_false_alarm_design.py``). It runs
20 times in each of three sessions with different ``--chaos-seed`` values (a fresh mesh
and fresh balancer draws each). On the same window each repetition also judges the share
with an interval built at 20% confidence but labelled 95% (injected into the check for that
one judgement), whose false-FAIL rate at the edge is about 35%.

The decision rule: more than ``MAX_FALSE_FAILS`` FAILs in the 60 repetitions is evidence
(at the 0.1% level) that false FAILs exceed α/2. The honest checks stay under it; the
miscalibrated ones must not, or this test could not catch what it is for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "chaoskit" / "samples"
SEEDS = (11, 12, 13)
PER_SEED = 20
REPETITIONS = PER_SEED * len(SEEDS)
HALF_ALPHA = 0.025
# The band whose upper edge is the true canary share (10%).
BAND_CENTRE = 0.06
BAND_TOLERANCE = 0.04
TRUE_SHARE = 0.10
# The confidence the miscalibrated interval is really built at.
MISCALIBRATED = 0.20
# P(Bin(60, 0.025) > 6) < 0.001: more FAILs than this reject "false FAILs ≤ α/2".
MAX_FALSE_FAILS = 6
WINDOW_REQUESTS = 500  # rate 500/s for 1 s

EXPERIMENT = f'''
import json
from dataclasses import replace

import pytest

from chaoskit.assertions import Inconclusive, RateMetric
from chaoskit.stats import Proportion, proportion_interval


def judge_miscalibrated(share):
    """The same check with Proportion.interval swapped for one built at
    {MISCALIBRATED:g} confidence and labelled with the confidence asked for."""
    honest = Proportion.interval

    def miscalibrated(self, confidence=0.95, method="clopper-pearson"):
        built = proportion_interval(self.successes, self.trials, {MISCALIBRATED!r}, method)
        return replace(built, confidence=confidence)

    Proportion.interval = miscalibrated
    try:
        twin = RateMetric(share.successes, share.trials, "miscalibrated twin")
        twin.matches({BAND_CENTRE!r}, tolerance={BAND_TOLERANCE!r})
        return "PASS"
    except AssertionError:
        return "FAIL"
    except Inconclusive:
        return "INCONCLUSIVE"
    finally:
        Proportion.interval = honest


@pytest.mark.parametrize("repetition", range({PER_SEED}))
def test_canary_share_on_the_band_edge(chaos, load, repetition, request):
    chaos.apply("{RESOURCES}/seed/02-canary.yaml")
    window = load.run("/", service="my-service:80", rate=500.0, duration="1s")
    share = window.share(version="canary")
    line = {{"n": share.trials, "canary": share.successes, "twin": judge_miscalibrated(share)}}
    with open(str(request.config.getoption("--chaos-report")) + "/twins.jsonl", "a") as out:
        out.write(json.dumps(line) + "\\n")
    share.matches({BAND_CENTRE!r}, tolerance={BAND_TOLERANCE!r})
'''


def assert_false_fails_within_half_alpha(fails: int, repetitions: int, what: str) -> None:
    assert repetitions == REPETITIONS
    assert fails <= MAX_FALSE_FAILS, (
        f"{what}: {fails} false FAILs in {repetitions} repetitions with the true share on the "
        f"band's edge; at most {MAX_FALSE_FAILS} are consistent with a rate ≤ α/2"
    )


@pytest.mark.slow
def test_false_failures_at_the_band_edge_stay_within_half_alpha(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makefile(
        ".ini",
        pytest="[pytest]\naddopts = -p no:locust -p no:cacheprovider\n",
    )
    pytester.makepyfile(test_repeat=EXPERIMENT)
    experiments, twins = [], []
    for seed in SEEDS:
        report = tmp_path / f"seed-{seed}"
        report.mkdir()
        pytester.runpytest_subprocess(f"--chaos-report={report}", f"--chaos-seed={seed}")
        experiments += json.loads((report / "results.json").read_text())["experiments"]
        twins += [json.loads(line) for line in (report / "twins.jsonl").read_text().splitlines()]
    outcomes = [e["outcome"] for e in experiments]
    assert len(outcomes) == len(twins) == REPETITIONS
    errors = [e["message"][:300] for e in experiments if e["outcome"] == "error"]
    assert not errors, errors
    # The windows are the size the exact computation assumed (±20%).
    assert all(0.8 * WINDOW_REQUESTS <= t["n"] <= 1.2 * WINDOW_REQUESTS for t in twins), twins
    # The honest checks: within α/2 at the edge.
    assert_false_fails_within_half_alpha(outcomes.count("failed"), REPETITIONS, "honest checks")
    # The miscalibrated interval, on the same windows, is caught by the same rule.
    twin_fails = sum(t["twin"] == "FAIL" for t in twins)
    with pytest.raises(AssertionError, match="false FAILs"):
        assert_false_fails_within_half_alpha(twin_fails, REPETITIONS, "miscalibrated interval")
