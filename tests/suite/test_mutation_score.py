"""The experiment suite catches every weakening of its own config: every removal, and every
partial weakening its experiments do not declare uncatchable at their n.

This runs ``chaoskit mutate experiments/ --jobs 2`` for real: the whole suite once
unmodified and alone (it must hold), then each weakening on the experiments whose config it
changes, two mutant runs (two meshes) at a time. It is the slowest test here: nineteen
mutant runs (twelve removals, seven partial weakenings) after the baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_suite_catches_every_weakening(tmp_path: Path) -> None:
    output = tmp_path / "mutants.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaoskit.cli",
            "mutate",
            "experiments/",
            # Mutant runs are mostly waiting on load windows, and every weakening's effect
            # is large (see docs/decisions.md), so two at a time fit two cores.
            "--jobs",
            "2",
            "--workdir",
            str(tmp_path / "runs"),
            "-o",
            str(output),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert output.exists(), done.stdout[-4000:] + done.stderr[-4000:]
    keep = os.environ.get("CHAOSKIT_KEEP_BASELINE")
    if keep:  # CI's dress rehearsal compares its verdicts with this unmodified run's
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "runs" / "baseline" / "results.json", keep)
    report = json.loads(output.read_text())
    missed = [m for m in report["mutants"] if m["missed"]]
    assert missed == [], done.stdout[-4000:]
    removals = [m for m in report["mutants"] if m["kind"] == "removal"]
    assert all(m["caught"] for m in removals), done.stdout[-4000:]
    # A kill names its check, so a mutant caught by an unrelated flake can be seen.
    assert all(m["killed_by"] for m in report["mutants"] if m["caught"])
    operators = {m["operator"] for m in report["mutants"]}
    # Every operator, removal or partial, has something to weaken somewhere in the suite.
    assert len(operators) == 19, sorted(operators)
    assert "mutation score, partial weakenings:" in done.stdout
    assert done.returncode == 0
