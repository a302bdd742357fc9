"""``--chaos-require-all``: a game day never goes green by skipping.

An experiment skipped because the cluster lacks a workload it needs is an error of the run;
one marked ``chaos(embedded_only=...)`` is still skipped. Either way the terminal summary,
the JUnit file and results.json (which the HTML report renders) carry the reason.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, NamedTuple

import pytest

from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.test_cluster_mesh import EXPERIMENT, PLUGIN_INI, cluster

__all__ = ["cluster"]  # the fixture: Bookinfo's ratings and reviews, with sidecars

MISSING = "the kind mesh does not run default/my-service, which this experiment needs"
EMBEDDED_ONLY = "runs on the embedded mesh only, not on the kind mesh: fortio does not pass"


class Run(NamedTuple):
    result: pytest.RunResult
    records: dict[str, dict[str, Any]]  # results.json's experiments by name
    cases: dict[str, ET.Element]  # JUnit test cases by name
    html: str  # report.html


def run(
    cluster: FakeApiServer,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    *flags: str,
) -> Run:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    pytester.makefile(".ini", pytest=PLUGIN_INI)
    pytester.makepyfile(test_cluster=EXPERIMENT)
    report = pytester.path / "report"
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(
        "--mesh",
        "kind",
        "--kube-context",
        cluster.context,
        f"--chaos-report={report}",
        f"--junitxml={junit}",
        *flags,
    )
    experiments = json.loads((report / "results.json").read_text())["experiments"]
    records = {e["name"]: e for e in experiments}
    cases = {c.get("name", ""): c for c in ET.parse(junit).getroot().iter("testcase")}
    return Run(result, records, cases, (report / "report.html").read_text())


def test_without_the_flag_a_missing_workload_is_a_skip_with_its_reason(
    cluster: FakeApiServer, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, records, cases, _html = run(cluster, pytester, monkeypatch)
    result.assert_outcomes(passed=1, skipped=2)
    assert records["test_my_service_is_not_on_this_cluster"]["outcome"] == "skipped"
    skipped = cases["test_my_service_is_not_on_this_cluster"].find("skipped")
    assert skipped is not None
    assert MISSING in skipped.get("message", "")


def test_with_the_flag_a_missing_workload_fails_the_run_and_embedded_only_stays_skipped(
    cluster: FakeApiServer, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, records, cases, html = run(cluster, pytester, monkeypatch, "--chaos-require-all")
    result.assert_outcomes(passed=1, skipped=1, errors=1)
    assert result.ret != 0
    # pytest's own summary and chaoskit's section both say why
    result.stdout.fnmatch_lines([f"*{MISSING}; with --chaos-require-all that is an error*"])
    result.stdout.fnmatch_lines(
        [f"SKIPPED*test_only_the_embedded_mesh_can_judge_this*{EMBEDDED_ONLY}*"]
    )
    missing = records["test_my_service_is_not_on_this_cluster"]
    assert missing["outcome"] == "error"
    assert MISSING in missing["message"]
    embedded = records["test_only_the_embedded_mesh_can_judge_this"]
    assert embedded["outcome"] == "skipped"
    assert EMBEDDED_ONLY in embedded["message"]
    assert MISSING in html
    assert EMBEDDED_ONLY in html
    error = cases["test_my_service_is_not_on_this_cluster"].find("error")
    assert error is not None
    assert MISSING in error.get("message", "")
    skipped = cases["test_only_the_embedded_mesh_can_judge_this"].find("skipped")
    assert skipped is not None
    assert EMBEDDED_ONLY in skipped.get("message", "")
