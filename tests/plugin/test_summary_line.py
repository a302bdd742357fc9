"""The terminal's line per experiment headlines the check that matters (no mesh needed)."""

from __future__ import annotations

import pytest

from chaoskit.experiment.record import ExperimentRecord
from chaoskit.plugin.results import _summary
from chaoskit.stats import Proportion, at_least, at_most


def record() -> ExperimentRecord:
    experiment = ExperimentRecord("t.py::t", "t", "t.py", "")
    experiment.add_judgement("w", at_least(Proportion(200, 200), 0.9, subject="success rate"))
    experiment.add_judgement("w", at_most(Proportion(0, 200), 0.05, subject="share of 503s"))
    return experiment


def test_when_all_pass_the_last_check_is_the_headline() -> None:
    line = _summary(record().to_json())
    assert line.startswith("HELD         t — share of 503s")
    assert line.endswith("(and 1 more check passed)")


def test_the_author_can_mark_the_headline() -> None:
    experiment = record()
    first = at_least(Proportion(200, 200), 0.9, subject="success rate")
    experiment.headline(first)
    assert _summary(experiment.to_json()).startswith("HELD         t — success rate")


def test_marking_a_check_the_experiment_never_made_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match="not a check of this experiment"):
        record().headline(at_least(Proportion(1, 2), 0.9, subject="something else"))


def test_an_inconclusive_check_shows_what_would_decide_it() -> None:
    experiment = record()
    experiment.outcome = "inconclusive"
    experiment.add_judgement(
        "w", at_least(Proportion(30, 30), 0.999, subject="success rate"), hint="about 381 requests"
    )
    assert _summary(experiment.to_json()).endswith(
        "INCONCLUSIVE (the interval straddles 99.9%; more samples narrow it); about 381 requests"
    )


def test_a_collection_error_is_reported_as_pytest_reports_it(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A test file that cannot be imported is pytest's collection error, not an internal
    error of the plugin's status hook (a CollectReport has no ``user_properties``)."""
    pytester.makepyfile(test_broken="import a_module_that_does_not_exist_anywhere\n")
    report_dir = tmp_path_factory.mktemp("report")
    result = pytester.runpytest_subprocess(f"--chaos-report={report_dir}")
    result.stdout.fnmatch_lines(["*ERROR collecting test_broken.py*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
