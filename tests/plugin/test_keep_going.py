"""A mutant run (``--chaos-mutation``) goes on past a failed check, so every check the
weakening flips is recorded; its outcome is still decided by the first check that did not
pass, as in an ordinary run. No mesh: the checks judge numbers given here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHECKS = """
from chaoskit.assertions import RateMetric


def judged(experiment, ok, n, subject):
    return RateMetric(ok, n, subject, "w", experiment)


def test_two_flips(experiment):
    judged(experiment, 10, 100, "first").at_least(0.9)
    judged(experiment, 100, 100, "second").at_least(0.9)
    judged(experiment, 90, 100, "third").at_most(0.5)


def test_inconclusive_first(experiment):
    judged(experiment, 3, 4, "too few").at_least(0.9)
    judged(experiment, 0, 100, "later fail").at_least(0.9)


def test_bare_assert_after_a_flip(experiment):
    judged(experiment, 0, 100, "flipped").at_least(0.9)
    assert False, "code that relied on the check"


def test_skip_after_a_flip(experiment):
    import pytest

    judged(experiment, 0, 100, "flipped").at_least(0.9)
    pytest.skip("a skip does not hide the flip")
"""


def run(pytester: pytest.Pytester, tmp_path: Path, *options: str) -> dict[str, dict]:
    pytester.makefile(".ini", pytest="[pytest]\naddopts = -p no:locust -p no:cacheprovider\n")
    pytester.makepyfile(test_checks=CHECKS)
    pytester.runpytest_subprocess(f"--chaos-report={tmp_path}", "-p", "no:randomly", *options)
    results = json.loads((tmp_path / "results.json").read_text())["experiments"]
    return {e["name"]: e for e in results}


def verdicts(experiment: dict) -> list[tuple[str, str]]:
    return [(a["subject"], a["verdict"]) for a in experiment["assertions"]]


def test_a_mutant_run_records_every_flip_and_fails_with_the_first(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    got = run(pytester, tmp_path, "--chaos-mutation=drop-timeout")
    two = got["test_two_flips"]
    assert verdicts(two) == [("first", "FAIL"), ("second", "PASS"), ("third", "FAIL")]
    assert (two["outcome"], two["message"].startswith("AssertionError: first 10.0%")) == (
        "failed",
        True,
    ), two["message"]
    # Each judgement names the statement that made it.
    sites = [a["site"] for a in two["assertions"]]
    assert sites == [f"test_checks.py:{line}" for line in (9, 10, 11)]
    # The first check that did not pass decides, as without the mutation.
    first = got["test_inconclusive_first"]
    assert verdicts(first) == [("too few", "INCONCLUSIVE"), ("later fail", "FAIL")]
    assert first["outcome"] == "inconclusive"
    bare = got["test_bare_assert_after_a_flip"]
    assert (bare["outcome"], bare["message"].split(":")[0]) == ("failed", "AssertionError")
    assert "flipped 0.0%" in bare["message"]
    assert got["test_skip_after_a_flip"]["outcome"] == "failed"


def test_an_ordinary_run_stops_at_the_first_check_that_does_not_pass(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    got = run(pytester, tmp_path)
    assert verdicts(got["test_two_flips"]) == [("first", "FAIL")]
    assert verdicts(got["test_inconclusive_first"]) == [("too few", "INCONCLUSIVE")]
    assert got["test_two_flips"]["outcome"] == "failed"
    assert got["test_inconclusive_first"]["outcome"] == "inconclusive"
