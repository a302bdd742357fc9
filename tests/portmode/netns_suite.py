"""``make portmode``: the e2e core and the Bookinfo experiments where only 127.0.0.1 binds.

Each check runs pytest in a network namespace whose loopback has only 127.0.0.1/32
(tests/portmode/netns.py), as a Mac without loopback aliases: ip mode cannot run there, so
the mesh has to be in port mode, and the experiments' results.json must say so. The
experiments' verdicts are compared with a run of the same experiments in ip mode outside
the namespace, made in the same test. Not part of ``make test`` (about 3 minutes); CI runs
it from ``.ci/run``. The file name keeps it out of ``pytest tests/``'s collection.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.portmode.netns import mac_like

pytestmark = pytest.mark.usefixtures("mac_like_loopback")

REPO = Path(__file__).resolve().parents[2]
# The e2e suite's core: routing, faults, retries, timeouts, breakers, ejection, killed pods.
E2E_CORE = [
    "tests/e2e/test_routing.py",
    "tests/e2e/test_faults.py",
    "tests/e2e/test_timeouts_retries.py",
    "tests/e2e/test_resilience.py",
    "tests/e2e/test_kill_modes.py",
    # pod objects, Endpoints and EndpointSlices agree with EDS
    "tests/e2e/test_kube_api.py::test_endpoints_and_slices_list_what_eds_carries",
    "tests/e2e/test_kube_api.py::test_pods_and_services_read_through_core_v1",
]
# Bookinfo's experiments, and load balancing (hosts told apart by port, consistent hashing).
EXPERIMENTS = ["experiments/test_bookinfo_findings.py", "experiments/test_load_balancing.py"]


def _pytest(args: list[str], *, in_namespace: bool) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(
        mac_like(command) if in_namespace else command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _verdicts(report: Path) -> tuple[str, dict[str, str]]:
    results = json.loads((report / "results.json").read_text())
    outcomes = {e["name"]: e["outcome"] for e in results["experiments"]}
    return results["run"]["mesh"].get("address_mode", ""), outcomes


def test_e2e_core_passes_in_port_mode() -> None:
    done = _pytest(E2E_CORE, in_namespace=True)
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    summary = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary), summary
    assert "skipped" not in summary, summary


def test_experiments_reach_ip_mode_verdicts_in_port_mode(tmp_path: Path) -> None:
    port_run = _pytest([*EXPERIMENTS, "--chaos-report", str(tmp_path / "port")], in_namespace=True)
    ip_run = _pytest(
        [*EXPERIMENTS, "--address-mode", "ip", "--chaos-report", str(tmp_path / "ip")],
        in_namespace=False,
    )
    port_mode, port_verdicts = _verdicts(tmp_path / "port")
    ip_mode, ip_verdicts = _verdicts(tmp_path / "ip")
    assert (port_mode, ip_mode) == ("port", "ip")
    # Ambient cannot run in port mode: its runs are skipped with the reason, and every
    # other verdict is the same as in ip mode.
    ambient = {name for name in ip_verdicts if name.endswith("[ambient]")}
    assert ambient, "the Bookinfo findings run in both data planes"
    assert {n: port_verdicts.get(n) for n in ambient} == dict.fromkeys(ambient, "skipped")
    same = {n: v for n, v in port_verdicts.items() if n not in ambient}
    assert same == {n: v for n, v in ip_verdicts.items() if n not in ambient}, port_run.stdout[
        -3000:
    ]
    assert port_run.returncode == ip_run.returncode
