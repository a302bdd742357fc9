"""``chaoskit init``: a starting point for chaos experiments in a user's own repository.

It writes example experiments, a ``conftest.py``, the pytest ini settings and two GitHub
Actions workflows (pull requests on the embedded mesh, scheduled game days on kind). It never
overwrites a file: what exists is kept, and the summary says what was skipped and what to
add by hand.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PYTEST_SETTINGS", "ScaffoldReport", "scaffold"]

FILES_DIR = Path(__file__).resolve().parent / "files"
# template (under files/) -> where it goes in the user's repository
PLACES = {
    "experiments/test_bookinfo_routing.py": "experiments/test_bookinfo_routing.py",
    "experiments/test_my_service_canary.py": "experiments/test_my_service_canary.py",
    "conftest.py": "conftest.py",
    "workflows/chaoskit-pr.yml": ".github/workflows/chaoskit-pr.yml",
    "workflows/chaoskit-gameday.yml": ".github/workflows/chaoskit-gameday.yml",
}
PYTEST_SETTINGS = """\
[tool.pytest.ini_options]
# chaoskit (written by `chaoskit init`): `pytest experiments/` runs the chaos experiments.
testpaths = ["experiments"]
# Where experiments run: local is chaoskit's embedded mesh; kind or kube on a game day.
chaos_mesh = "local"
# An experiment that cannot decide (INCONCLUSIVE) fails the run, with exit status 11.
chaos_strict = true
# Your own folder of Istio YAML for the `resources` fixture (default: chaoskit's samples).
# chaos_resources = "istio"
"""
PYTEST_SECTION = "[tool.pytest.ini_options]"
# pytest reads these before pyproject.toml (docs.pytest.org, "Configuration file formats").
OTHER_INI_FILES = (("pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))


@dataclass
class ScaffoldReport:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why, and what to do"
    appended: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"created   {path}" for path in self.created]
        lines += [f"appended  {path}" for path in self.appended]
        lines += [f"skipped   {entry}" for entry in self.skipped]
        return "\n".join(lines) + "\n"


def scaffold(target: Path, *, version: str) -> ScaffoldReport:
    """Write the starting point into ``target`` (created if missing); never overwrite."""
    target.mkdir(parents=True, exist_ok=True)
    report = ScaffoldReport()
    for template, place in PLACES.items():
        destination = target / place
        if destination.exists():
            report.skipped.append(f"{place}: it exists and is kept as is")
            continue
        text = (FILES_DIR / template).read_text(encoding="utf-8").replace("@VERSION@", version)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        report.created.append(place)
    _add_pytest_settings(target, report)
    return report


def _add_pytest_settings(target: Path, report: ScaffoldReport) -> None:
    by_hand = "add these lines by hand:\n" + _indented(PYTEST_SETTINGS)
    for name, section in OTHER_INI_FILES:
        if _has_ini_section(target / name, section):
            keys = PYTEST_SETTINGS.split("\n", 1)[1]
            report.skipped.append(
                f"pyproject.toml: pytest reads [{section}] in {name} first; add these keys "
                f"there by hand (as ini lines, without quotes and brackets):\n{_indented(keys)}"
            )
            return
    pyproject = target / "pyproject.toml"
    if not pyproject.exists():
        pyproject.write_text(PYTEST_SETTINGS, encoding="utf-8")
        report.created.append("pyproject.toml")
        return
    text = pyproject.read_text(encoding="utf-8")
    if any(line.strip() == PYTEST_SECTION for line in text.splitlines()):
        report.skipped.append(f"pyproject.toml: it already has {PYTEST_SECTION}; {by_hand}")
        return
    separator = (
        "" if text.endswith("\n\n") or not text else ("\n" if text.endswith("\n") else "\n\n")
    )
    pyproject.write_text(text + separator + PYTEST_SETTINGS, encoding="utf-8")
    report.appended.append(f"pyproject.toml ({PYTEST_SECTION})")


def _has_ini_section(path: Path, section: str) -> bool:
    if not path.is_file():
        return False
    if path.name == "pytest.ini":
        return True  # pytest uses pytest.ini even without a [pytest] section
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return False
    return parser.has_section(section)


def _indented(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines())
