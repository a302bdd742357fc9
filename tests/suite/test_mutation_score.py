"""The experiment suite catches every weakening of its own config, and every check in it has
been seen to FAIL.

``test_the_suite_catches_every_weakening`` runs ``chaoskit mutate experiments/ --jobs 2``
for real: the whole suite once unmodified and alone (it must hold), then each weakening on
the experiments whose config it changes, two mutant runs (two meshes) at a time. A mutant
run goes on past a failed check, so the report lists every check each mutant flipped; from
that, the same test holds every check of every experiment to a demonstrated flip: by some
mutant, or by the config change named for it in ``FLIPPED_ELSEWHERE`` (which
``test_the_checks_no_mutant_flips_fail_on_a_misconfigured_mesh`` applies). A check that
nothing could flip is no check: it is removed, or made a precondition (INCONCLUSIVE when
not met, never a PASS).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.experiment.check_sites import CheckSite, inventory

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "experiments"


def _route_without_subset(doc: dict[str, Any]) -> None:
    del doc["spec"]["http"][0]["route"][0]["destination"]["subset"]


@dataclass(frozen=True)
class ElsewhereFlip:
    """A check no mutation operator reaches, and the config change that makes it FAIL."""

    test: str  # the experiment's test function
    check: str  # its statement, as check_sites shows it
    resource: str  # the YAML under experiments/resources/ the change is made to
    change: Callable[[dict[str, Any]], None]
    why: str


# One row per check of the suite that no mutant of ``chaoskit mutate`` flips.
FLIPPED_ELSEWHERE = [
    ElsewhereFlip(
        "test_v2_receives_a_copy_of_every_request_and_clients_see_only_v1",
        'window.share(version="v1").at_least(0.99)',
        "seed/05-mirroring.yaml",
        _route_without_subset,
        "the route loses its v1 subset, so clients are answered by v2 too; no operator "
        "drops a route's subset, since most experiments route by subset incidentally",
    ),
]


def _key(site: CheckSite) -> tuple[str, str]:
    return site.test, site.source


def _sites() -> list[CheckSite]:
    return inventory([EXPERIMENTS], REPO)


def test_every_check_is_recorded_and_the_table_names_real_checks() -> None:
    """Fast: the inventory the slow tests rely on. Every check records its verdict (a bare
    ``assert`` records nothing, so no mutant could be seen flipping it), and every row of
    FLIPPED_ELSEWHERE names one check of the suite and a resource that exists."""
    sites = _sites()
    assert len(sites) > 20  # the inventory reads the experiments (a parse gone wrong is empty)
    assert [s.id for s in sites if s.bare_assert] == []
    keys = [_key(s) for s in sites]
    for row in FLIPPED_ELSEWHERE:
        assert keys.count((row.test, row.check)) == 1, row
        assert (EXPERIMENTS / "resources" / row.resource).is_file(), row


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
    assert (tmp_path / "runs" / "mutation.html").is_file()

    # Every check of every experiment: made by the unmodified suite, and flipped to FAIL
    # by some mutant, or else by its row of FLIPPED_ELSEWHERE (and not by both: a stale
    # row would hide a check that lost its mutant).
    checks = {c["site"]: c for c in report["checks"]}
    sites = _sites()
    assert sorted(checks) == sorted(s.id for s in sites)
    assert [site for site, c in checks.items() if not c["ran"]] == []
    elsewhere = {(row.test, row.check) for row in FLIPPED_ELSEWHERE}
    unflipped = [
        f"{s.id} {s.source}"
        for s in sites
        if not checks[s.id]["flipped_by"]
        if _key(s) not in elsewhere
    ]
    assert unflipped == [], report["checks"]
    both = [
        f"{s.id} {checks[s.id]['flipped_by']}"
        for s in sites
        if checks[s.id]["flipped_by"] and _key(s) in elsewhere
    ]
    assert both == []


def _copy_suite(target: Path) -> Path:
    """The experiments and the repository's pytest settings, in ``target``."""
    shutil.copytree(
        EXPERIMENTS, target / "experiments", ignore=shutil.ignore_patterns("__pycache__")
    )
    # The ini keys the suite runs with (pyproject.toml): three ratings replicas.
    (target / "pytest.ini").write_text(
        "[pytest]\n"
        "addopts = -p no:locust -p no:cacheprovider\n"
        "chaos_replicas = bookinfo/ratings-v1=3\n"
    )
    return target / "experiments"


@pytest.mark.slow
def test_the_checks_no_mutant_flips_fail_on_a_misconfigured_mesh(tmp_path: Path) -> None:
    """Each row of FLIPPED_ELSEWHERE, on a copy of the suite with that row's config change:
    the experiment runs (going on past failed checks) and the row's check FAILs."""
    suite = _copy_suite(tmp_path / "suite")
    sites = {_key(s): s for s in _sites()}
    wanted: dict[str, list[CheckSite]] = {}
    for row in FLIPPED_ELSEWHERE:
        path = suite / "resources" / row.resource
        docs = list(yaml.safe_load_all(path.read_text()))
        row.change(docs[0])
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        site = sites[(row.test, row.check)]
        wanted.setdefault(f"{site.file}::{site.test}", []).append(site)
    report = tmp_path / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *sorted(wanted),
            "--chaos-keep-going",
            f"--chaos-report={report}",
        ],
        cwd=tmp_path / "suite",
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    results = report / "results.json"
    assert results.is_file(), done.stdout[-4000:] + done.stderr[-4000:]
    experiments = {e["id"]: e for e in json.loads(results.read_text())["experiments"]}
    for node, wanted_sites in wanted.items():
        experiment = experiments[node]
        verdicts = {
            a["site"]: a["verdict"] for a in experiment["assertions"] if a["verdict"] == "FAIL"
        }
        for site in wanted_sites:
            assert site.id in verdicts, (site.id, experiment["assertions"], experiment["message"])
