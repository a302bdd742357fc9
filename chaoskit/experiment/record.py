"""What an experiment did and saw, gathered for results.json and the report."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit import __version__
from chaoskit.experiment.check_sites import calling_site
from chaoskit.experiment.mutations import applicable
from chaoskit.experiment.waypoint_view import as_a_waypoint_runs
from chaoskit.stats import Judgement, Verdict

SCHEMA = "chaoskit.results/1"


@dataclass
class FaultRecord:
    kind: str
    description: str
    target: str
    yaml: str
    applied: float
    removed: float | None = None
    proof: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "target": self.target,
            "yaml": self.yaml,
            "applied": self.applied,
            "removed": self.removed,
            "proof": self.proof,
        }


@dataclass
class ExperimentRecord:
    """One test's experiment; also the sink its assertions settle into."""

    id: str
    name: str
    file: str
    hypothesis: str
    started: float = field(default_factory=time.time)
    outcome: str = "held"
    message: str = ""
    duration_s: float = 0.0
    faults: list[FaultRecord] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    ejections: list[dict[str, Any]] = field(default_factory=list)
    stat_deltas: dict[str, dict[str, int]] = field(default_factory=dict)
    applied_objects: list[dict[str, Any]] = field(default_factory=list)
    # The pre-flight of each change on a real cluster, one line per change: what was
    # created, replaced, labelled or deleted (pods included). Empty on the embedded mesh.
    planned_changes: list[str] = field(default_factory=list)
    mutation: str | None = None
    # Config the mesh accepted that will not do what it says (a subset nothing defines).
    warnings: list[str] = field(default_factory=list)
    # Partial weakenings this experiment declares it cannot catch, with why
    # (``@pytest.mark.chaos(uncatchable={operator: why})``).
    uncatchable: dict[str, str] = field(default_factory=dict)
    # Where it ran: {"backend": local | kind | kube, "context": the kube context or None};
    # None when it never reached a mesh (a collection or setup error before connecting).
    mesh: dict[str, Any] | None = None
    # A mutant run goes on past a check that did not pass, so that every check the
    # weakening flips is recorded; the test then fails with the first (``defer``).
    keep_going: bool = False
    deferred: list[Exception] = field(default_factory=list)

    def add_judgement(
        self, window: str, judgement: Judgement, predicted: Any = None, hint: str = ""
    ) -> None:
        entry: dict[str, Any] = {"window": window, **judgement.to_dict()}
        # Which statement of the experiment made the check (``file:line``), so a mutant's
        # flips can be told apart by check, not by their changing numbers.
        site = calling_site(self.file) if self.file else None
        entry["site"] = site.id if site is not None else None
        entry["predicted"] = (
            {"value": predicted.value, "why": predicted.why} if predicted is not None else None
        )
        if hint and judgement.verdict is not Verdict.PASS:
            entry["hint"] = hint
        self.assertions.append(entry)

    def defer(self, failure: Exception) -> bool:
        """Keep ``failure`` (a FAIL or an INCONCLUSIVE just recorded) for the end of the
        test instead of raising it now, when this is a mutant run; ``False`` otherwise."""
        if self.keep_going:
            self.deferred.append(failure)
        return self.keep_going

    def headline(self, judgement: Judgement) -> Judgement:
        """Mark ``judgement`` (a check this experiment settled) as the one its summary line
        shows when every check passes; by default that is the last check."""
        wanted = judgement.to_dict()
        for entry in reversed(self.assertions):
            if all(entry.get(key) == value for key, value in wanted.items()):
                entry["headline"] = True
                return judgement
        raise ValueError(
            f"{judgement.explain()!r} is not a check of this experiment; pass the value a "
            "check returned, e.g. experiment.headline(window.p(0.99).at_most('1s'))"
        )

    def _as_run(self) -> list[dict[str, Any]]:
        """What the mesh ran of the objects applied: in ambient mode (with waypoints),
        without the rules a waypoint skips, so a weakening of those is no mutant here."""
        if (self.mesh or {}).get("dataplane") == "ambient":
            return as_a_waypoint_runs(self.applied_objects)
        return self.applied_objects

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "file": self.file,
            "hypothesis": self.hypothesis,
            "outcome": self.outcome,
            "message": self.message,
            "started": self.started,
            "duration_s": self.duration_s,
            "faults": [f.to_json() for f in self.faults],
            "windows": self.windows,
            "assertions": self.assertions,
            "ejections": self.ejections,
            "stat_deltas": self.stat_deltas,
            "planned_changes": self.planned_changes,
            "warnings": self.warnings,
            "mutation": self.mutation,
            "mutations": applicable(self._as_run()),
            "uncatchable": self.uncatchable,
            "mesh": self.mesh,
        }


def git_commit(directory: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def run_header(
    run_id: str,
    started: float,
    mesh: dict[str, Any],
    seed: int,
    scale: float,
    argv: list[str],
    root: Path,
    interrupted: bool,
) -> dict[str, Any]:
    finished = time.time()
    return {
        "id": run_id,
        "started": started,
        "finished": finished,
        "duration_s": finished - started,
        "interrupted": interrupted,
        "mesh": mesh,
        "seed": seed,
        "duration_scale": scale,
        "chaoskit_version": __version__,
        "git_commit": git_commit(root),
        "python": platform.python_version(),
        "argv": argv,
    }


def write_results(path: Path, run: dict[str, Any], experiments: list[dict[str, Any]]) -> None:
    """Write atomically: a reader never sees half a file, even if the run is killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"schema": SCHEMA, "run": run, "experiments": experiments}
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(payload, indent=1, default=str))
    os.replace(partial, path)
