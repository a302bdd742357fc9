"""Mutation testing of an experiment suite: weaken the config, see whether it notices.

A *mutant* is one experiment run with one weakening (``mutations.OPERATORS``) applied to
every Istio object it applies. The suite *catches* a mutant when that experiment fails (an
error or an inconclusive run is a miss: no verdict on the weakened mesh). The mutation
score is caught / mutants. A baseline run first finds which operators change what each
experiment applies; it must hold entirely, or the score would mean nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit.errors import ChaoskitError
from chaoskit.experiment.mutations import OPERATORS


@dataclass
class Mutant:
    operator: str
    experiment: str
    outcome: str  # the experiment's outcome under the weakening

    @property
    def caught(self) -> bool:
        # Only a FAIL is evidence the suite noticed: an error or an inconclusive run means
        # the experiment never reached a verdict on the weakened mesh.
        return self.outcome == "failed"


@dataclass
class MutationReport:
    mutants: list[Mutant] = field(default_factory=list)
    baseline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(m.caught for m in self.mutants) / len(self.mutants) if self.mutants else 1.0

    def table(self) -> str:
        lines = [f"{'operator':<28} {'outcome':<13} experiment"]
        for m in sorted(self.mutants, key=lambda m: (m.operator, m.experiment)):
            verdict = "caught" if m.caught else f"MISSED ({m.outcome})"
            lines.append(f"{m.operator:<28} {verdict:<13} {m.experiment}")
        caught = sum(m.caught for m in self.mutants)
        lines.append(
            f"mutation score: {self.score:.0%} ({caught} of {len(self.mutants)} weakenings caught)"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "mutants": [
                {
                    "operator": m.operator,
                    "experiment": m.experiment,
                    "outcome": m.outcome,
                    "caught": m.caught,
                }
                for m in self.mutants
            ],
        }


def _pytest(args: list[str], report_dir: Path, extra: list[str]) -> list[dict[str, Any]]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        *args,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--chaos-report={report_dir}",
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    results = report_dir / "results.json"
    if not results.exists():
        output = done.stdout[-3000:] + done.stderr[-2000:]
        raise ChaoskitError(f"pytest wrote no results ({' '.join(command)}):\n{output}")
    return list(json.loads(results.read_text())["experiments"])


def run_mutations(
    paths: list[str],
    workdir: Path,
    *,
    operators: list[str] | None = None,
    extra: list[str] | None = None,
    progress: Any = print,
    jobs: int = 1,
) -> MutationReport:
    """Run the baseline alone, then the mutant runs, ``jobs`` of them at a time.

    Each mutant run is its own pytest process with its own embedded mesh, so runs share
    nothing but the CPU. The baseline always runs alone: it must hold, and it decides
    which runs exist.
    """
    if jobs < 1:
        raise ChaoskitError(f"jobs must be at least 1, not {jobs}")
    options = list(extra or [])
    progress("baseline: running the suite unmodified")
    baseline = _pytest(paths, workdir / "baseline", options)
    broken = [e["id"] for e in baseline if e["outcome"] != "held"]
    if broken:
        raise ChaoskitError(
            "the unmodified suite does not hold, so weakenings cannot be judged; fix first: "
            + ", ".join(broken)
        )
    report = MutationReport(baseline=baseline)
    chosen = list(dict.fromkeys(operators or OPERATORS))
    runs = []
    for operator in chosen:
        affected = [e["id"] for e in baseline if operator in e.get("mutations", [])]
        if affected:
            runs.append((operator, affected))
    schedule = list(runs)
    if jobs > 1:
        # Longest first (by the baseline's durations), so the last lanes finish together.
        took = {e["id"]: float(e.get("duration_s") or 0.0) for e in baseline}
        schedule.sort(key=lambda run: -sum(took.get(e, 0.0) for e in run[1]))

    def mutant_run(operator: str, affected: list[str]) -> list[dict[str, Any]]:
        progress(f"{operator}: {len(affected)} experiment(s)")
        return _pytest(affected, workdir / operator, [*options, f"--chaos-mutation={operator}"])

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {op: pool.submit(mutant_run, op, affected) for op, affected in schedule}
        outcomes = {op: futures[op].result() for op, _ in schedule}
    finally:
        pool.shutdown(cancel_futures=True)  # a run that failed outright stops the rest
    for operator, affected in runs:  # the report keeps the operators' order
        by_id = {e["id"]: e["outcome"] for e in outcomes[operator]}
        for experiment in affected:
            report.mutants.append(Mutant(operator, experiment, by_id.get(experiment, "missing")))
    return report
