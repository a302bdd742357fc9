"""The four outcomes survive the trip to CI: pytest's summary line, its exit status and
JUnit XML tell HELD, FAILED, ERROR and INCONCLUSIVE apart, and the terminal shows what
would decide an inconclusive experiment and why an erroring one never reached a verdict."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chaoskit.plugin.exitcodes import EXPERIMENT_ERROR, INCONCLUSIVE, exit_status

FOUR_OUTCOMES = '''
from __future__ import annotations

TYPO = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  htpp:
  - route: [{destination: {host: reviews, subset: v1}}]
"""


def test_holds(chaos, load):
    """Two checks pass: the summary headlines the last one, what the experiment is about."""
    window = load.run(rate=40.0, duration="1s")
    window.success_rate().at_least(0.5)
    window.latency(0.5).at_most("5s")


def test_fails(chaos):
    """A refuted hypothesis."""
    assert 1 + 1 == 3, "the mesh is not resilient"


def test_errors(chaos):
    """A config typo: the experiment never reaches a verdict."""
    chaos.apply(TYPO)


def test_is_inconclusive(chaos, load):
    """Too few requests to judge a 99.9% rate."""
    load.run(rate=30.0, duration="1s").success_rate().at_least(0.999)
'''


def test_summary_exit_status_and_junit_tell_the_four_outcomes_apart(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_four=FOUR_OUTCOMES)
    report = tmp_path / "report"
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={report}", "-p", "no:randomly")
    text = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, text[-3000:]
    result.stdout.fnmatch_lines(
        [
            "*chaoskit experiments*",
            "HELD*test_holds*p50 latency*PASS (and 1 more check passed)",
            "FAILED*test_fails*the mesh is not resilient*",
            "ERROR*test_errors*invalid Istio resources*",
            # The reason itself, on the lines after the first: which field, what is wrong.
            "*unknown field 'htpp'*did you mean 'http'*",
            "INCONCLUSIVE*test_is_inconclusive*straddles*requests at this rate would decide "
            "it (this window had *); lengthen the load window or raise the rate*",
            "*1 failed, 1 passed, 1 error, 1 inconclusive*",
        ]
    )
    cases = {c.get("name"): c for c in ET.parse(report / "junit.xml").getroot().iter("testcase")}
    assert [child.tag for child in cases["test_fails"] if child.tag != "properties"] == ["failure"]
    assert [child.tag for child in cases["test_errors"] if child.tag != "properties"] == ["error"]
    (skipped,) = cases["test_is_inconclusive"].findall("skipped")
    assert skipped.get("type") == "chaoskit.inconclusive"
    assert "requests at this rate would decide it" in str(skipped.get("message"))
    assert not cases["test_is_inconclusive"].findall("failure")
    outcomes = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}["chaoskit.outcome"]
        for name, case in cases.items()
    }
    assert outcomes == {
        "test_holds": "held",
        "test_fails": "failed",
        "test_errors": "error",
        "test_is_inconclusive": "inconclusive",
    }
    suite = next(ET.parse(report / "junit.xml").getroot().iter("testsuite"))
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "1")


def test_an_inconclusive_experiment_fails_the_run_under_chaos_strict(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_four=FOUR_OUTCOMES)
    result = chaos_dir.runpytest_subprocess(
        f"--chaos-report={tmp_path}", "-k", "inconclusive", "--chaos-strict"
    )
    assert result.ret == INCONCLUSIVE, result.stdout.str()[-3000:]


@pytest.mark.parametrize(
    ("outcomes", "other_failures", "strict", "expected"),
    [
        (["held", "skipped"], 0, True, 0),
        (["held", "inconclusive"], 0, False, 0),
        (["held", "inconclusive"], 0, True, INCONCLUSIVE),
        (["inconclusive", "error"], 0, True, EXPERIMENT_ERROR),
        (["error", "failed"], 1, False, 1),
        (["held"], 1, False, 1),  # a test that is not an experiment failed
    ],
)
def test_the_exit_status_ranks_failed_then_error_then_inconclusive(
    outcomes: list[str], other_failures: int, strict: bool, expected: int
) -> None:
    status = pytest.ExitCode.TESTS_FAILED if other_failures or outcomes != ["held"] else 0
    assert exit_status(status, outcomes, other_failures, strict) == expected


def test_pytests_own_statuses_are_kept() -> None:
    interrupted = pytest.ExitCode.INTERRUPTED
    assert exit_status(interrupted, ["inconclusive"], 0, True) == interrupted
