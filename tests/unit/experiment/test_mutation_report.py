"""``chaoskit mutate``'s report: the check that killed each mutant, declared-uncatchable
partial weakenings, and one score per kind (removals, partial weakenings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chaoskit.experiment import mutate as mutate_module
from chaoskit.experiment.mutate import killing_check, run_mutations


def check(verdict: str, explanation: str, window: str = "w") -> dict[str, Any]:
    return {"window": window, "verdict": verdict, "explanation": explanation}


def test_the_killing_check_is_the_first_that_failed() -> None:
    result = {
        "outcome": "failed",
        "message": "AssertionError: the last one",
        "assertions": [
            check("PASS", "success rate ok"),
            check("FAIL", "share of version canary 19.8% matches 10% ± 4%: FAIL", "split"),
            check("FAIL", "a later failure"),
        ],
    }
    assert killing_check(result) == "[split] share of version canary 19.8% matches 10% ± 4%: FAIL"


def test_a_failure_no_check_recorded_is_named_by_its_message() -> None:
    result = {"outcome": "failed", "message": "assert 3 == 2\nmore", "assertions": []}
    assert killing_check(result) == "assert 3 == 2"
    assert killing_check({"outcome": "held", "assertions": [check("PASS", "fine")]}) == ""


BASELINE = [
    {
        "id": "canary",
        "outcome": "held",
        "mutations": ["even-weights", "shift-weights", "raise-pending-limit"],
        "uncatchable": {
            "raise-pending-limit": "HTTP/2 upstream: no request waits for a connection"
        },
    },
    {"id": "breaker", "outcome": "held", "mutations": ["raise-max-ejection", "drop-timeout"]},
]
# Under each operator, the experiments that still hold.
HOLDS = {("canary", "raise-pending-limit"), ("breaker", "raise-max-ejection")}
NO_VERDICT = {("canary", "even-weights")}
LOST = {("breaker", "drop-timeout")}  # its run ended before the experiment


def fake_pytest(args: list[str], report_dir: Path, extra: list[str]) -> list[dict[str, Any]]:
    mutation = next((e.split("=", 1)[1] for e in extra if e.startswith("--chaos-mutation=")), None)
    if mutation is None:
        return BASELINE
    results = []
    for experiment in args:
        if (experiment, mutation) in LOST:
            continue
        if (experiment, mutation) in HOLDS:
            results.append({"id": experiment, "outcome": "held", "assertions": []})
        elif (experiment, mutation) in NO_VERDICT:
            message = "INCONCLUSIVE: n=12 is below the minimum of 20\nmore"
            results.append({"id": experiment, "outcome": "inconclusive", "message": message})
        else:
            failed = check("FAIL", f"{mutation} noticed", "split")
            results.append({"id": experiment, "outcome": "failed", "assertions": [failed]})
    return results


def test_scores_per_kind_and_declared_uncatchable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mutate_module, "_pytest", fake_pytest)
    report = run_mutations(["experiments/"], Path("unused"), progress=lambda _: None)
    by = {(m.experiment, m.operator): m for m in report.mutants}
    assert by["canary", "shift-weights"].killed_by == "[split] shift-weights noticed"
    declared = by["canary", "raise-pending-limit"]
    assert (declared.caught, declared.missed, declared.kind) == (False, False, "partial")
    assert by["breaker", "raise-max-ejection"].missed
    # A run that ended before its experiment (its mesh did not start) is a miss that says so.
    lost = by["breaker", "drop-timeout"]
    assert (lost.outcome, lost.missed) == ("missing", True)
    assert lost.no_verdict.startswith("no result in unused/drop-timeout/results.json; see junit")
    report.mutants.remove(lost)
    removal, partial = report.by_kind("removal"), report.by_kind("partial")
    assert (removal.caught, removal.total) == (0, 1)
    assert (
        by["canary", "even-weights"].no_verdict == "INCONCLUSIVE: n=12 is below the minimum of 20"
    )
    assert (partial.caught, partial.declared, partial.missed, partial.total) == (1, 1, 1, 3)
    table = report.table()
    assert "mutation score, removals: 0% (0 of 1 caught, 1 missed)" in table
    assert "no verdict: INCONCLUSIVE: n=12 is below the minimum of 20" in table
    assert (
        "mutation score, partial weakenings: 33% (1 of 3 caught, 1 declared uncatchable, "
        "1 missed)" in table
    )
    assert "killed by [split] shift-weights noticed" in table
    assert "declared: HTTP/2 upstream: no request waits for a connection" in table
    assert "MISSED (held)" in table
    # Undeclared misses fail the run; without them, the declared one alone does not.
    assert not report.holds(1.0)
    report.mutants.remove(by["breaker", "raise-max-ejection"])
    assert not report.holds(1.0)
    report.mutants.remove(by["canary", "even-weights"])
    assert report.holds(1.0)
    json = report.to_json()
    assert json["scores"]["partial"]["declared_uncatchable"] == 1
    assert {m["killed_by"] for m in json["mutants"]} == {"[split] shift-weights noticed", None}


EXPERIMENT = """
def test_split(chaos, load):
    window = load.run(rate=10.0, duration="1s")
    window.share(version="canary").matches(0.1, tolerance=0.04)
    window.success_rate().at_least(0.99)
    window.latency(0.9).at_most("1s")
"""


def sited(verdict: str, explanation: str, line: int) -> dict[str, Any]:
    return {**check(verdict, explanation), "site": f"test_split.py:{line}"}


def test_every_flip_is_reported_per_mutant_and_per_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "test_split.py").write_text(EXPERIMENT)
    monkeypatch.chdir(tmp_path)  # results name files relative to the rootdir
    passed = [sited("PASS", "fine", line) for line in (4, 5, 6)]
    under = {
        "even-weights": [sited("FAIL", "split off", 4), passed[1], sited("FAIL", "slow", 6)],
        "shift-weights": [sited("FAIL", "split off", 4), passed[1], passed[2]],
    }

    def fake(args: list[str], report_dir: Path, extra: list[str]) -> list[dict[str, Any]]:
        mutation = next((e.split("=")[1] for e in extra if "--chaos-mutation=" in e), None)
        if mutation is None:
            mutations = ["even-weights", "shift-weights"]
            return [
                {"id": "split", "file": "test_split.py", "outcome": "held", "assertions": passed}
                | {"mutations": mutations}
            ]
        return [{"id": "split", "outcome": "failed", "assertions": under[mutation]}]

    monkeypatch.setattr(mutate_module, "_pytest", fake)
    report = run_mutations(["test_split.py"], tmp_path / "runs", progress=lambda _: None)
    by = {m.operator: m for m in report.mutants}
    assert [f.site for f in by["even-weights"].flipped] == ["test_split.py:4", "test_split.py:6"]
    assert by["even-weights"].killed_by == "[w] split off"
    rows = {row.site.id: row for row in report.coverage()}
    assert {site: row.flipped_by for site, row in rows.items()} == {
        "test_split.py:4": ["even-weights", "shift-weights"],
        "test_split.py:5": [],
        "test_split.py:6": ["even-weights"],
    }
    assert all(row.ran for row in rows.values())
    table = report.table()
    assert "also flipped [w] slow" in table
    assert "window.success_rate().at_least(0.99)" in table
    assert "2 of 3 checks flipped by some mutant" in table
    checks = report.to_json()["checks"]
    assert checks[1] == {
        "site": "test_split.py:5",
        "test": "test_split",
        "source": "window.success_rate().at_least(0.99)",
        "bare_assert": False,
        "ran": True,
        "flipped_by": [],
    }
    assert report.to_json()["mutants"][0]["flipped"][1] == {
        "site": "test_split.py:6",
        "check": "[w] slow",
    }
