"""The experiment record's JSON: keys a results reader relies on."""

from __future__ import annotations

from chaoskit.experiment.record import ExperimentRecord


def test_planned_changes_are_in_the_record_and_empty_by_default() -> None:
    record = ExperimentRecord("id", "name", "file.py", "")
    assert record.to_json()["planned_changes"] == []
    record.planned_changes.append("delete pod bookinfo/ratings-v1-1 (grace period 0; ...)")
    assert record.to_json()["planned_changes"] == [
        "delete pod bookinfo/ratings-v1-1 (grace period 0; ...)"
    ]
