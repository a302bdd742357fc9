"""The ``resources`` and ``chaos_samples`` fixtures: the Istio YAML shipped in the package,
or the project's own folder (ini ``chaos_resources``)."""

from __future__ import annotations

import pytest

from chaoskit.samples import SAMPLES_DIR

PROBE = """
def test_where(resources, chaos_samples):
    print()
    print("RESOURCES", resources)
    print("SAMPLES", chaos_samples)
    assert (chaos_samples / "seed" / "01-basic-routing.yaml").is_file()
"""


def test_resources_are_the_shipped_samples_by_default(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest="[pytest]\naddopts = -p no:locust -p no:cacheprovider\n")
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"RESOURCES {SAMPLES_DIR}", f"SAMPLES {SAMPLES_DIR}"])


def test_chaos_resources_points_the_fixture_at_the_projects_folder(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(
        ".ini",
        pytest="[pytest]\naddopts = -p no:locust -p no:cacheprovider\nchaos_resources = istio\n",
    )
    (pytester.path / "istio").mkdir()
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"RESOURCES {pytester.path / 'istio'}", f"SAMPLES {SAMPLES_DIR}"])


def test_a_missing_chaos_resources_folder_is_one_line_naming_path_and_key(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(
        ".ini",
        pytest="[pytest]\naddopts = -p no:locust -p no:cacheprovider\nchaos_resources = nowhere\n",
    )
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: chaos_resources: {pytester.path / 'nowhere'} is not a folder; fix the ini key*"]
    )
