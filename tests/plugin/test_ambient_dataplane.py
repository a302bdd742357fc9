"""One experiment in both ambient shapes (``--chaos-dataplane``): with a waypoint the
ratings abort acts there, for every caller; without one, nothing applies it and the
experiment is INCONCLUSIVE with the reason, never a false HELD."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPERIMENT = '''
REVIEWS_V2 = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
"""


def test_ratings_abort_shows_on_every_page(chaos, load):
    """reviews v2 calls ratings; a 500 abort on ratings leaves every page without stars."""
    chaos.apply(REVIEWS_V2)
    chaos.abort("ratings", http_status=500)
    window = load.run(rate=10.0, duration="2s")
    window.share(text="Ratings service is currently unavailable").at_least(0.8)
'''


def _outcome(directory: Path) -> dict[str, object]:
    results = json.loads((directory / "results.json").read_text())
    (experiment,) = results["experiments"]
    return {**experiment, "dataplane": results["run"]["mesh"]["dataplane"]}


def test_with_a_waypoint_the_fault_acts_at_the_waypoint(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_ambient=EXPERIMENT)
    result = chaos_dir.runpytest_subprocess(
        f"--chaos-report={tmp_path}", "--chaos-dataplane=ambient"
    )
    result.assert_outcomes(passed=1)
    experiment = _outcome(tmp_path)
    assert (experiment["outcome"], experiment["dataplane"]) == ("held", "ambient")
    (fault,) = [f for f in experiment["faults"] if f["kind"] == "abort"]  # type: ignore[attr-defined]
    # The proof found the fault in the waypoint's routes and its FI entries at its rate.
    assert fault["proof"]["sidecars"] == [
        n for n in fault["proof"]["sidecars"] if n.startswith("waypoint-")
    ]
    assert fault["proof"]["sidecars"]
    assert fault["proof"]["judgement"]["verdict"] == "PASS"


def test_without_a_waypoint_the_experiment_is_inconclusive_and_says_why(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_ambient=EXPERIMENT)
    result = chaos_dir.runpytest_subprocess(
        f"--chaos-report={tmp_path}", "--chaos-dataplane=ambient-l4"
    )
    result.stdout.fnmatch_lines(
        [
            "*FaultNotInEffect: *the pods of ratings.bookinfo run in ambient mode*no waypoint "
            "serves namespace bookinfo*",
            "*1 inconclusive*",
        ]
    )
    experiment = _outcome(tmp_path)
    assert (experiment["outcome"], experiment["dataplane"]) == ("inconclusive", "ambient-l4")
