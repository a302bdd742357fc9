"""``reports/latest`` points at the newest run that executed an experiment."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from chaoskit.experiment.session import Settings, write_session_results

MESH = {"backend": "local", "istio_version": "1.28", "context": None, "ingress": None}


def _experiment(outcome: str) -> dict[str, Any]:
    return {"id": "experiments/test_x.py::test_x", "name": "test_x", "outcome": outcome}


def _run(reports: Path, name: str, experiments: list[dict[str, Any]]) -> Path:
    settings = Settings(report_dir=reports / name, root=reports.parent)
    return write_session_results(settings, time.time(), MESH, experiments, interrupted=False)


def test_a_run_that_executed_nothing_keeps_its_report_but_not_latest(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    real = _run(reports, "20260101T000000Z-aaaa", [_experiment("held")])
    assert (reports / "latest").resolve() == real.parent.resolve()
    refused = _run(reports, "20260101T000100Z-bbbb", [])
    assert refused.exists()
    assert (reports / "latest").resolve() == real.parent.resolve()
    skipped = _run(reports, "20260101T000200Z-cccc", [_experiment("skipped")])
    assert skipped.exists()
    assert (reports / "latest").resolve() == real.parent.resolve()
    newer = _run(reports, "20260101T000300Z-dddd", [_experiment("failed")])
    assert (reports / "latest").resolve() == newer.parent.resolve()
