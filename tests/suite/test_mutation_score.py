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
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaoskit.experiment.check_sites import CheckSite, inventory

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "experiments"


Object = dict[str, Any]


def _named(obj: Object, kind: str, name: str) -> bool:
    return obj.get("kind") == kind and (obj.get("metadata") or {}).get("name") == name


def _routes_without_subsets(name: str) -> Callable[[Object], bool]:
    """VirtualService ``name`` routing to its host's every version (no subsets)."""

    def change(obj: Object) -> bool:
        if not _named(obj, "VirtualService", name):
            return False
        for route in obj["spec"]["http"]:
            for destination in route.get("route") or []:
                destination["destination"].pop("subset", None)
        return True

    return change


def _fault_without_abort(obj: Object) -> bool:
    if not _named(obj, "VirtualService", "fault-injection"):
        return False
    return any([(r.get("fault") or {}).pop("abort", None) is not None for r in obj["spec"]["http"]])


def _hash_on_source_ip(obj: Object) -> bool:
    if not _named(obj, "DestinationRule", "load-balancing"):
        return False
    obj["spec"]["trafficPolicy"]["loadBalancer"] = {"consistentHash": {"useSourceIp": True}}
    return True


def _ratings_delay_for_a_fifth(obj: Object) -> bool:
    if not _named(obj, "VirtualService", "ratings"):
        return False
    changed = False
    for route in obj["spec"]["http"]:
        delay = (route.get("fault") or {}).get("delay") or {}
        if delay.get("fixedDelay") == "2s":
            delay["percentage"] = {"value": 20}
            changed = True
    return changed


def _source_scope_dropped(obj: Object) -> bool:
    """The ratings delay for every caller: its match loses ``sourceLabels``."""
    if not _named(obj, "VirtualService", "ratings-from-reviews-v2"):
        return False
    changed = False
    for route in obj["spec"]["http"]:
        kept = [m for m in route.get("match") or [] if not m.get("sourceLabels")]
        if route.get("fault") and len(kept) != len(route.get("match") or []):
            route.pop("match")
            changed = True
    return changed


@dataclass(frozen=True)
class ElsewhereFlip:
    """A check no mutation operator reliably flips, and the config change that does."""

    experiment: str  # its node id
    check: str  # its statement, as check_sites shows it
    change: Callable[[Object], bool]  # on each object the experiment applies: changed?
    why: str

    @property
    def test(self) -> str:
        """The test function (a data plane's id, ``test_x[ambient]``, names ``test_x``)."""
        return self.experiment.rsplit("::", 1)[-1].split("[", 1)[0]


# One row per check of the suite that no mutant of ``chaoskit mutate`` reliably flips.
# ``test_the_checks_no_mutant_flips_fail_on_a_misconfigured_mesh`` applies every change at
# once, as one more operator (``flip_elsewhere.py``), and sees each check FAIL.
FLIPPED_ELSEWHERE = [
    ElsewhereFlip(
        "experiments/test_bookinfo_findings.py::"
        "test_a_source_scoped_delay_acts_in_sidecars_and_not_at_a_waypoint[ambient]",
        'window.latency(0.9).at_most("1s")',
        _source_scope_dropped,
        "in ambient mode the waypoint skips the sourceLabels rule, so no weakening of it is a "
        "mutant there (chaoskit/experiment/waypoint_view.py); the check fails once the delay "
        "is no longer scoped by source labels, i.e. acts at the waypoint for every caller",
    ),
    ElsewhereFlip(
        "experiments/test_bookinfo_findings.py::test_reviews_timeout_bounds_the_page_latency"
        "[sidecar]",
        "window.latency(0.5).between(expected.value - 0.2, expected.value + 0.3, "
        "predicted=expected)",
        _ratings_delay_for_a_fifth,
        "most pages are fast while the prediction (which takes a delayed page's time) is "
        "about 1 s; halve-fault-percent puts the median between the two modes, so its "
        "interval is often too wide to FAIL (INCONCLUSIVE in one run of two)",
    ),
    ElsewhereFlip(
        "experiments/test_request_routing.py::test_jason_is_routed_to_v2_and_everyone_else_to_v1",
        'jason.share(version="v2").at_least(0.97)',
        _routes_without_subsets("reviews-route"),
        "jason's route reaches every reviews version; drop-header-match cannot flip it, "
        "since without its match jason's rule, first, sends everyone to v2",
    ),
    ElsewhereFlip(
        "experiments/test_mirroring.py::"
        "test_v2_receives_a_copy_of_every_request_and_clients_see_only_v1",
        'window.share(version="v1").at_least(0.99)',
        _routes_without_subsets("mirror-traffic"),
        "the route loses its v1 subset, so v2 answers clients too; no operator drops a "
        "route's subset, since most experiments route by subset only incidentally",
    ),
    ElsewhereFlip(
        "experiments/test_fault_injection.py::test_observed_fault_rates_match_the_template",
        'answered.share(status=fault["abort"]["httpStatus"]).matches(abort_share, '
        "tolerance=ABORT_BAND)",
        _fault_without_abort,
        "no abort at all; halve-fault-percent's 2.5% sits on the band's edge at this n "
        "(the docstring: the abort band catches only gross changes), so it flips it only "
        "about half the time",
    ),
    ElsewhereFlip(
        "experiments/test_load_balancing.py::test_round_robin_spreads_calls_evenly",
        'window.share(where=lambda r: r.pod == slow, subject=f"calls served by {slow} (slow)")'
        ".matches(0.2, tolerance=0.05)",
        _hash_on_source_ip,
        "one in-mesh client hashed to one pod: the slow pod serves all or nothing. "
        "default-load-balancer should flip it too, but on a loaded machine the 100 ms pod "
        "is not slow enough against the rest (13.8% seen: INCONCLUSIVE, not FAIL)",
    ),
    ElsewhereFlip(
        "experiments/test_load_balancing.py::test_round_robin_spreads_calls_evenly",
        'window.share(where=lambda r, pod=pod: r.pod == pod, subject=f"calls served by {pod}")'
        ".matches(0.2, tolerance=0.05)",
        _hash_on_source_ip,
        "one in-mesh client hashed to one pod: the others serve nothing; Istio's default "
        "(default-load-balancer) only starves the slow pod, leaving about 24% to each fast "
        "one, inside the interval's reach of the band (INCONCLUSIVE, not FAIL)",
    ),
]


def _key(site: CheckSite) -> tuple[str, str]:
    return site.test, site.source


def _sites() -> list[CheckSite]:
    return inventory([EXPERIMENTS], REPO)


def test_every_check_is_recorded_and_the_table_names_real_checks() -> None:
    """Fast: the inventory the slow tests rely on. Every check records its verdict (a bare
    ``assert`` records nothing, so no mutant could be seen flipping it), and every row of
    FLIPPED_ELSEWHERE names one check of the suite, in an experiment file that exists."""
    sites = _sites()
    assert len(sites) > 20  # the inventory reads the experiments (a parse gone wrong is empty)
    assert [s.id for s in sites if s.bare_assert] == []
    keys = [_key(s) for s in sites]
    for row in FLIPPED_ELSEWHERE:
        assert keys.count((row.test, row.check)) == 1, row
        assert (REPO / row.experiment.split("::")[0]).is_file(), row


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
    assert (tmp_path / "runs" / "mutation.html").is_file()

    # Every check of every experiment: made by the unmodified suite, and flipped to FAIL
    # by some mutant, or else by its row of FLIPPED_ELSEWHERE (tested below).
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


@pytest.mark.slow
def test_the_checks_no_mutant_flips_fail_on_a_misconfigured_mesh(tmp_path: Path) -> None:
    """Every row of FLIPPED_ELSEWHERE at once, as one more operator: each row's experiment
    runs (going on past failed checks, as a mutant run does) and the row's check FAILs."""
    sites = {_key(s): s for s in _sites()}
    report = tmp_path / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *sorted({row.experiment for row in FLIPPED_ELSEWHERE}),
            "-p",
            "tests.suite.flip_elsewhere",
            "--chaos-mutation=flip-elsewhere",
            f"--chaos-report={report}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    results = report / "results.json"
    assert results.is_file(), done.stdout[-4000:] + done.stderr[-4000:]
    experiments = {e["id"]: e for e in json.loads(results.read_text())["experiments"]}
    for row in FLIPPED_ELSEWHERE:
        experiment = experiments[row.experiment]
        assert experiment["mutation"] == "flip-elsewhere"
        failed = {a["site"] for a in experiment["assertions"] if a["verdict"] == "FAIL"}
        assert sites[(row.test, row.check)].id in failed, (row.why, experiment["assertions"])
