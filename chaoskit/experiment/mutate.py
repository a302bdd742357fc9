"""Mutation testing of an experiment suite: weaken the config, see whether it notices.

A *mutant* is one experiment run with one weakening (``mutations.OPERATORS``) applied to
every Istio object it applies. The suite *catches* a mutant when that experiment fails (an
error or an inconclusive run is a miss: no verdict on the weakened mesh); the first check
that failed is what killed it. A mutant run goes on past a failed check
(``plugin/keep_going.py``), so every check the weakening *flipped* to FAIL is recorded, by
its check site (``check_sites.py``); the report lists them per mutant, and per check the
mutants that flip it. The mutation score is caught / mutants, given separately for
removals and partial weakenings; a partial weakening the experiment declares uncatchable
(``@pytest.mark.chaos(uncatchable={operator: why})``) is reported with its reason instead of
as a miss. A baseline run first finds which operators change what each experiment applies,
and what each declares; it must hold entirely, or the score would mean nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit.errors import ChaoskitError
from chaoskit.experiment.check_sites import CheckSite, sites_in
from chaoskit.experiment.mutations import OPERATORS


@dataclass(frozen=True)
class Flip:
    """One check that FAILed under a mutant: its site (``file:line``) and what it said."""

    site: str
    check: str

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site or None, "check": self.check}


@dataclass
class Mutant:
    operator: str
    experiment: str
    outcome: str  # the experiment's outcome under the weakening
    kind: str = "removal"  # "removal" or "partial" (mutations.Operator.kind)
    killed_by: str = ""  # the first check that failed, when the experiment failed
    # Why the experiment cannot catch this partial weakening, when it declares so
    declared_uncatchable: str | None = None
    # Why there was no verdict (an error or an inconclusive run): its message's first line
    no_verdict: str = ""
    # Every check that FAILed, in the order they settled (the first is ``killed_by``)
    flipped: list[Flip] = field(default_factory=list)

    @property
    def caught(self) -> bool:
        # Only a FAIL is evidence the suite noticed: an error or an inconclusive run means
        # the experiment never reached a verdict on the weakened mesh.
        return self.outcome == "failed"

    @property
    def missed(self) -> bool:
        """Not caught, and not declared uncatchable by its experiment."""
        return not self.caught and self.declared_uncatchable is None

    def verdict(self) -> str:
        if self.caught:
            return "caught" if self.declared_uncatchable is None else "caught though declared"
        if self.declared_uncatchable is not None:
            return "declared uncatchable"
        return f"MISSED ({self.outcome})"

    def to_json(self) -> dict[str, Any]:
        return {
            "operator": self.operator,
            "kind": self.kind,
            "experiment": self.experiment,
            "outcome": self.outcome,
            "caught": self.caught,
            "killed_by": self.killed_by or None,
            "declared_uncatchable": self.declared_uncatchable,
            "missed": self.missed,
            "no_verdict": self.no_verdict or None,
            "flipped": [f.to_json() for f in self.flipped],
        }


def _described(check: dict[str, Any]) -> str:
    window = f"[{check['window']}] " if check.get("window") else ""
    return f"{window}{check.get('explanation') or check.get('subject', '')}"


def killing_check(result: dict[str, Any]) -> str:
    """The first check that failed in a failed experiment's results (``[window]
    explanation``), or, for a failure no check recorded (a bare ``assert``), the first line
    of its message. An experiment that did not fail was killed by nothing (a FAIL after an
    INCONCLUSIVE, in a run that kept going, decides nothing)."""
    if result.get("outcome") != "failed":
        return ""
    for check in result.get("assertions") or []:
        if check.get("verdict") == "FAIL":
            return _described(check)
    return str(result.get("message") or "").strip().split("\n")[0][:300]


def flipped_checks(result: dict[str, Any]) -> list[Flip]:
    """Every check of an experiment's results that FAILed, by site."""
    return [
        Flip(str(check.get("site") or ""), _described(check))
        for check in result.get("assertions") or []
        if check.get("verdict") == "FAIL"
    ]


def _no_verdict(result: dict[str, Any]) -> str:
    if result.get("outcome") in ("held", "failed"):
        return ""
    message = str(result.get("message") or "").strip().split("\n")[0][:300]
    return message or str(result.get("outcome"))


@dataclass
class KindScore:
    caught: int
    declared: int
    total: int

    @property
    def score(self) -> float:
        return self.caught / self.total if self.total else 1.0

    @property
    def missed(self) -> int:
        return self.total - self.caught - self.declared

    def line(self, label: str) -> str:
        if not self.total:
            return f"mutation score, {label}: no mutants"
        text = f"mutation score, {label}: {self.score:.0%} ({self.caught} of {self.total} caught"
        if self.declared:
            text += f", {self.declared} declared uncatchable"
        return text + f", {self.missed} missed)"

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "caught": self.caught,
            "declared_uncatchable": self.declared,
            "missed": self.missed,
            "mutants": self.total,
        }


@dataclass
class CheckCoverage:
    """One check site of the suite, and the mutants that flipped it to FAIL."""

    site: CheckSite
    ran: bool  # the unmodified suite made this check (and it passed: the baseline held)
    flipped_by: list[str] = field(default_factory=list)  # "operator" per mutant

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site.id,
            "test": self.site.test,
            "source": self.site.source,
            "bare_assert": self.site.bare_assert,
            "ran": self.ran,
            "flipped_by": self.flipped_by,
        }


@dataclass
class MutationReport:
    mutants: list[Mutant] = field(default_factory=list)
    baseline: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0
    # Every check site of the experiments run (``check_sites.inventory``)
    sites: list[CheckSite] = field(default_factory=list)

    def coverage(self) -> list[CheckCoverage]:
        """Per check site, whether the baseline made it and which mutants flipped it."""
        made = {
            str(check.get("site"))
            for experiment in self.baseline
            for check in experiment.get("assertions") or []
        }
        rows = {site.id: CheckCoverage(site, site.id in made) for site in self.sites}
        for mutant in self.mutants:
            for site in dict.fromkeys(f.site for f in mutant.flipped):
                if site in rows and mutant.operator not in rows[site].flipped_by:
                    rows[site].flipped_by.append(mutant.operator)
        return list(rows.values())

    def coverage_table(self) -> str:
        rows = self.coverage()
        if not rows:
            return ""
        lines = ["checks and the mutants that flip them:"]
        for row in rows:
            flips = ", ".join(row.flipped_by) or "no mutant"
            lines.append(f"  {row.site.id:<42} {flips}")
            lines.append(f"  {'':<42} {row.site.source}")
        unflipped = sum(not row.flipped_by for row in rows)
        lines.append(f"{len(rows) - unflipped} of {len(rows)} checks flipped by some mutant")
        return "\n".join(lines)

    @property
    def score(self) -> float:
        """Caught / all mutants, removals and partial weakenings together."""
        return sum(m.caught for m in self.mutants) / len(self.mutants) if self.mutants else 1.0

    def by_kind(self, kind: str) -> KindScore:
        chosen = [m for m in self.mutants if m.kind == kind]
        return KindScore(
            caught=sum(m.caught for m in chosen),
            declared=sum(not m.caught and m.declared_uncatchable is not None for m in chosen),
            total=len(chosen),
        )

    def holds(self, min_score: float) -> bool:
        """Each kind reaches ``min_score`` among its mutants not declared uncatchable."""
        for kind in ("removal", "partial"):
            counted = self.by_kind(kind)
            catchable = counted.total - counted.declared
            if catchable and counted.caught / catchable < min_score:
                return False
        return True

    def table(self) -> str:
        lines = [f"{'kind':<8} {'operator':<26} {'outcome':<21} experiment"]
        order = {"removal": 0, "partial": 1}
        for m in sorted(
            self.mutants, key=lambda m: (order.get(m.kind, 2), m.operator, m.experiment)
        ):
            lines.append(f"{m.kind:<8} {m.operator:<26} {m.verdict():<21} {m.experiment}")
            if m.caught and m.killed_by:
                lines.append(f"{'':<9}killed by {m.killed_by}")
            for flip in m.flipped[1 if m.caught else 0 :]:  # the first is the killing check
                lines.append(f"{'':<9}also flipped {flip.check}")
            if m.no_verdict:
                lines.append(f"{'':<9}no verdict: {m.no_verdict}")
            if m.declared_uncatchable is not None:
                lines.append(f"{'':<9}declared: {m.declared_uncatchable}")
        coverage = self.coverage_table()
        if coverage:
            lines.append(coverage)
        lines.append(self.by_kind("removal").line("removals"))
        lines.append(self.by_kind("partial").line("partial weakenings"))
        if self.duration_s:
            lines.append(f"took {self.duration_s / 60:.1f} min")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "scores": {k: self.by_kind(k).to_json() for k in ("removal", "partial")},
            "duration_s": self.duration_s,
            "mutants": [m.to_json() for m in self.mutants],
            "checks": [row.to_json() for row in self.coverage()],
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
    started = time.monotonic()
    options = list(extra or [])
    progress("baseline: running the suite unmodified")
    baseline = _pytest(paths, workdir / "baseline", options)
    if not baseline:  # e.g. the mesh did not start: nothing held, so nothing can be judged
        raise ChaoskitError(
            f"the unmodified suite ran no experiment; see {workdir / 'baseline' / 'junit.xml'}"
        )
    broken = [e for e in baseline if e["outcome"] != "held"]
    if broken:
        raise ChaoskitError(
            "the unmodified suite does not hold, so weakenings cannot be judged; fix first:\n"
            + "\n".join(
                f"{e['id']} ({e['outcome']}): {killing_check(e) or e.get('message', '')}"[:400]
                for e in broken
            )
        )
    report = MutationReport(baseline=baseline)
    # Results name files relative to pytest's rootdir: this repository's root, the
    # directory ``chaoskit mutate`` runs from.
    files = sorted({str(e["file"]) for e in baseline if e.get("file")})
    report.sites = [site for f in files if Path(f).is_file() for site in sites_in(Path(f), f)]
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
    declared = {e["id"]: e.get("uncatchable") or {} for e in baseline}
    for operator, affected in runs:  # the report keeps the operators' order
        by_id = {e["id"]: e for e in outcomes[operator]}
        for experiment in affected:
            # Absent when the run failed before the experiment (e.g. its mesh did not start).
            lost = f"no result in {workdir / operator / 'results.json'}; see junit.xml beside it"
            result = by_id.get(experiment, {"outcome": "missing", "message": lost})
            report.mutants.append(
                Mutant(
                    operator,
                    experiment,
                    result["outcome"],
                    kind=OPERATORS[operator].kind,
                    killed_by=killing_check(result),
                    declared_uncatchable=declared.get(experiment, {}).get(operator),
                    no_verdict=_no_verdict(result),
                    flipped=flipped_checks(result),
                )
            )
    report.duration_s = time.monotonic() - started
    return report
