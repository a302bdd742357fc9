"""``--chaos-spec`` / ini ``chaos_spec``: experiments run on a mesh from the user's own spec
(a twin), whose namespaces become the defaults for faults and the blast radius. Checked
when pytest configures, so no mesh starts in these tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
ADDOPTS = "addopts = -p no:locust -p no:cacheprovider\n"

PROBE = """
from chaoskit.plugin.state import STATE


def test_probe(request):
    settings = request.config.stash[STATE].settings
    print()
    print("SPEC", settings.spec)
    print("NAMESPACE", settings.namespace, ",".join(settings.namespaces))
"""


def _project(pytester: pytest.Pytester, ini: str = "") -> Path:
    (pytester.path / "twin").mkdir()
    shutil.copy(EXAMPLE / "mesh.yaml", pytester.path / "twin")
    shutil.copytree(EXAMPLE / "resources", pytester.path / "twin" / "resources")
    pytester.makefile(".ini", pytest=f"[pytest]\n{ADDOPTS}{ini}")
    pytester.makepyfile(test_probe=PROBE)
    return pytester.path / "twin" / "mesh.yaml"


def test_without_a_spec_the_defaults_are_bookinfos(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest=f"[pytest]\n{ADDOPTS}")
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["SPEC None", "NAMESPACE bookinfo bookinfo,default"])


def test_ini_chaos_spec_is_relative_to_the_rootdir_and_sets_the_namespaces(
    pytester: pytest.Pytester,
) -> None:
    spec = _project(pytester, "chaos_spec = twin/mesh.yaml\n")
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"SPEC {spec}", "NAMESPACE shop shop"])


def test_the_option_wins_and_the_ini_namespaces_still_decide(pytester: pytest.Pytester) -> None:
    spec = _project(pytester, "chaos_spec = nowhere.yaml\nchaos_namespace = other\n")
    result = pytester.runpytest_subprocess("-s", "--chaos-spec", "twin/mesh.yaml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"SPEC {spec}", "NAMESPACE other shop"])


def test_a_bad_spec_stops_the_run_naming_the_workload_and_field(
    pytester: pytest.Pytester,
) -> None:
    spec = _project(pytester)
    text = spec.read_text().replace("host: pricing,", "host: pricng,")
    spec.write_text(text)
    result = pytester.runpytest_subprocess("--chaos-spec", "twin/mesh.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"*--chaos-spec: mesh spec {spec} is invalid:*",
            "*spec.workloads[[]2] (shop/catalog): app.settings.calls[[]0]: host 'pricng' is not a "
            "Service of the spec*",
        ]
    )


def test_a_missing_spec_file_is_named(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest=f"[pytest]\n{ADDOPTS}chaos_spec = twin/mesh.yaml\n")
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*ini chaos_spec: cannot read mesh spec {pytester.path}*"])
