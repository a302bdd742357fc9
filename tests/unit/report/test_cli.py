"""``chaoskit report`` through ``chaoskit.cli.main``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chaoskit.cli import main
from tests.unit.report.helpers import HISTORY, HOSTILE, LATEST, OLDER


def test_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(LATEST), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "20251125T071502Z-4f2a" in page
    assert capsys.readouterr().out.startswith(f"wrote {out} (5 experiments, ")


def test_default_output_is_next_to_the_results(tmp_path: Path) -> None:
    shutil.copy(LATEST, tmp_path / "results.json")
    assert main(["report", str(tmp_path / "results.json")]) == 0
    assert (tmp_path / "report.html").is_file()


def test_several_files_make_one_page(tmp_path: Path) -> None:
    out = tmp_path / "all.html"
    assert main(["report", str(OLDER), str(LATEST), str(HOSTILE), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("<article") == 3


def test_trend_of_files(tmp_path: Path) -> None:
    out = tmp_path / "trend.html"
    assert main(["report", "--trend", str(LATEST), str(OLDER), "-o", str(out)]) == 0
    assert "What changed in the latest run" in out.read_text(encoding="utf-8")


def test_history_dir(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(HISTORY, reports)
    assert main(["report", "--history", str(reports)]) == 0
    page = (reports / "history.html").read_text(encoding="utf-8")
    assert "chaoskit resilience history" in page
    assert "2 significant regressions" in page


def test_one_file_against_history(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(LATEST), "--history", str(HISTORY), "-o", str(out)]) == 0
    assert "History: 2 runs" in out.read_text(encoding="utf-8")


def test_errors_are_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps({"schema": "other/1"}), encoding="utf-8")
    assert main(["report", str(bad), "-o", str(tmp_path / "x.html")]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"chaoskit report: {bad}: schema is 'other/1', but this chaoskit reads 'chaoskit.results/1'\n"
    )
    assert not (tmp_path / "x.html").exists()
    assert main(["report"]) == 1
    assert "give one or more RESULTS.json files, or --history DIR" in capsys.readouterr().err
    assert main(["report", str(LATEST), str(OLDER), "--history", str(HISTORY)]) == 1
    assert "use --trend" in capsys.readouterr().err


def test_rerendering_a_run_keeps_pytests_report_and_its_history(tmp_path: Path) -> None:
    """The report pytest wrote (with the runs beside it as History) is not replaced: the
    new page goes to report-2.html unless -o names the old one, and it has History too."""
    reports = tmp_path / "reports"
    shutil.copytree(HISTORY, reports)
    run = LATEST.parent.name
    pytests = reports / run / "report.html"
    pytests.write_text("the report pytest wrote", encoding="utf-8")

    assert main(["report", str(reports / run / "results.json")]) == 0
    assert pytests.read_text(encoding="utf-8") == "the report pytest wrote"
    page = (reports / run / "report-2.html").read_text(encoding="utf-8")
    assert "History: " in page
    assert OLDER.parent.name in page

    assert main(["report", str(reports / run / "results.json"), "-o", str(pytests)]) == 0
    assert "History: " in pytests.read_text(encoding="utf-8")
