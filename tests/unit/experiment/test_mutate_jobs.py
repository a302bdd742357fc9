"""``chaoskit mutate --jobs``: concurrent mutant runs give the same report as one at a time,
and the baseline still runs first and alone."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chaoskit.errors import ChaoskitError
from chaoskit.experiment import mutate as mutate_module
from chaoskit.experiment.mutate import run_mutations

BASELINE = [
    {"id": "a", "outcome": "held", "duration_s": 1.0, "mutations": ["drop-timeout"]},
    {"id": "b", "outcome": "held", "duration_s": 9.0, "mutations": ["drop-retries", "drop-mirror"]},
    {"id": "c", "outcome": "held", "duration_s": 4.0, "mutations": ["drop-timeout"]},
]
HOLDS_UNDER = {("c", "drop-timeout")}  # one missed weakening, so the report has both kinds


class FakePytest:
    def __init__(self, baseline: list[dict[str, Any]], overlap: bool = False) -> None:
        self.baseline = baseline
        self.overlap = overlap  # hold the first mutant run until a second one runs beside it
        self.calls: list[str] = []
        self.running = 0
        self.most = 0
        self.changed = threading.Condition()

    def __call__(self, args: list[str], report_dir: Path, extra: list[str]) -> list[dict[str, Any]]:
        mutation = next(
            (e.split("=", 1)[1] for e in extra if e.startswith("--chaos-mutation=")), None
        )
        with self.changed:
            self.calls.append(mutation or "baseline")
            self.running += 1
            self.most = max(self.most, self.running)
            self.changed.notify_all()
            if self.overlap and mutation is not None:
                self.changed.wait_for(lambda: self.most >= 2, timeout=30)
        time.sleep(0.01)
        with self.changed:
            self.running -= 1
        if mutation is None:
            return self.baseline
        return [
            {"id": e, "outcome": "held" if (e, mutation) in HOLDS_UNDER else "failed"} for e in args
        ]


def run(monkeypatch: pytest.MonkeyPatch, jobs: int) -> tuple[Any, FakePytest]:
    fake = FakePytest(BASELINE, overlap=jobs > 1)
    monkeypatch.setattr(mutate_module, "_pytest", fake)
    report = run_mutations(["experiments/"], Path("unused"), jobs=jobs, progress=lambda _: None)
    return report, fake


def test_concurrent_runs_give_the_same_report_as_sequential_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, sequential = run(monkeypatch, 1)
    two, concurrent = run(monkeypatch, 2)
    assert one.to_json()["mutants"] == two.to_json()["mutants"]  # only durations differ
    assert one.score == two.score == 3 / 4
    assert sequential.most == 1
    assert concurrent.most == 2
    # The baseline runs alone, first; then the longest runs (by baseline durations) first.
    assert sequential.calls == ["baseline", "drop-timeout", "drop-retries", "drop-mirror"]
    assert concurrent.calls[0] == "baseline"
    assert set(concurrent.calls[1:3]) == {"drop-retries", "drop-mirror"}


def test_a_broken_baseline_stops_before_any_mutant(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePytest([{**BASELINE[0], "outcome": "failed"}, *BASELINE[1:]])
    monkeypatch.setattr(mutate_module, "_pytest", fake)
    with pytest.raises(ChaoskitError, match="does not hold"):
        run_mutations(["experiments/"], Path("unused"), jobs=2, progress=lambda _: None)
    assert fake.calls == ["baseline"]


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ChaoskitError, match="at least 1"):
        run_mutations(["experiments/"], Path("unused"), jobs=0)
