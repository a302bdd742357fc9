"""The dress rehearsal's verdict comparison (tests/rehearsal/compare.py)."""

from __future__ import annotations

from typing import Any

from tests.rehearsal.compare import compare, table


def _run(*experiments: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "experiments": [
            {"id": f"experiments/t.py::{name}", "name": name, "outcome": outcome, "message": msg}
            for name, outcome, msg in experiments
        ]
    }


def test_same_outcomes_and_embedded_only_skips_agree() -> None:
    local = _run(("a", "held", ""), ("b", "failed", "x"), ("c", "held", ""))
    cluster = _run(
        ("a", "held", ""),
        ("b", "failed", "y"),
        ("c", "skipped", "runs on the embedded mesh only, not on the kube mesh: why"),
    )
    rows = compare(local, cluster)
    assert [(r.experiment, r.verdict) for r in rows] == [
        ("a", "same"),
        ("b", "same"),
        ("c", "embedded-only"),
    ]
    assert all(r.agrees for r in rows)


def test_a_different_outcome_or_an_unexplained_skip_disagrees_with_the_reason() -> None:
    local = _run(("a", "held", ""), ("b", "held", ""))
    cluster = _run(
        ("a", "error", "ReadinessTimeout: no config change"),
        ("b", "skipped", "the kube mesh does not run fortio"),
    )
    rows = compare(local, cluster)
    assert [(r.verdict, r.why) for r in rows] == [
        ("DIFFERENT", "ReadinessTimeout: no config change"),
        ("DIFFERENT", "the kube mesh does not run fortio"),
    ]
    assert "ReadinessTimeout: no config change" in table(rows)


def test_an_experiment_missing_from_either_run_disagrees() -> None:
    rows = compare(_run(("a", "held", "")), _run(("b", "held", "")))
    assert [(r.experiment, r.verdict, r.why) for r in rows] == [
        ("a", "MISSING", "not in the cluster run"),
        ("b", "MISSING", "not in the local run"),
    ]
    assert not any(r.agrees for r in rows)


def test_a_run_in_a_data_plane_the_cluster_does_not_run_agrees() -> None:
    local = _run(("a[sidecar]", "held", ""), ("a[ambient]", "held", ""))
    cluster = _run(
        ("a[sidecar]", "held", ""),
        ("a[ambient]", "skipped", "the cluster runs the sidecar data plane, not ambient (…)"),
    )
    rows = compare(local, cluster)
    assert [(r.experiment, r.verdict) for r in rows] == [
        ("a[sidecar]", "same"),
        ("a[ambient]", "other-dataplane"),
    ]
    assert all(r.agrees for r in rows)
    # The skip message the rehearsal allows is the one the plugin writes.
    from chaoskit.plugin.dataplanes import OTHER_PLANE
    from tests.rehearsal.compare import OTHER_PLANE as ALLOWED

    assert OTHER_PLANE == ALLOWED
