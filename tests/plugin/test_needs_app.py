"""``chaos(needs_app=[...])``: an experiment that needs a workload's own app behaviour
(Bookinfo's calls, fortio's load API) is skipped, with that reason, where the workload runs
the generic echo app, as every workload of a twin from ``chaoskit mesh snapshot`` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_a_workload_running_the_generic_app_skips_what_needs_its_own(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    # The built-in mesh runs my-service on echo (a twin's app) and fortio on fortio.
    chaos_dir.makepyfile(
        test_needs_app='''
import pytest

@pytest.mark.chaos(needs_app=["default/my-service"])
def test_needs_my_services_own_app(chaos):
    """Needs an app the mesh runs as the generic echo."""


@pytest.mark.chaos(needs_app=["fortio"])
def test_needs_fortio(chaos):
    """Needs fortio's own app, which the mesh runs."""
'''
    )
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*test_needs_my_services_own_app*needs the own behaviour of "
            "default/my-service, whose pods run the generic echo app here*",
        ]
    )
    outcomes = {
        e["name"]: e for e in json.loads((tmp_path / "results.json").read_text())["experiments"]
    }
    assert outcomes["test_needs_my_services_own_app"]["outcome"] == "skipped"
    assert outcomes["test_needs_fortio"]["outcome"] != "skipped"
