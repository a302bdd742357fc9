"""Weakenings of a rule a waypoint skips are no mutants of an ambient run
(``chaoskit/experiment/waypoint_view.py``); everything else is counted as before."""

from __future__ import annotations

from typing import Any

import yaml

from chaoskit.experiment.record import ExperimentRecord
from chaoskit.experiment.waypoint_view import as_a_waypoint_runs

SCOPED = yaml.safe_load("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings-from-reviews-v2, namespace: bookinfo}
spec:
  hosts: [ratings]
  http:
  - match: [{sourceLabels: {app: reviews, version: v2}}]
    fault: {delay: {fixedDelay: 2s, percentage: {value: 100}}}
    route: [{destination: {host: ratings, subset: v1}}]
  - match: [{sourceLabels: {app: reviews}}, {headers: {end-user: {exact: jason}}}]
    timeout: 1s
    route: [{destination: {host: ratings, subset: v1}}]
  - route: [{destination: {host: ratings, subset: v1}}]
""")


def _record(dataplane: str | None, *objects: dict[str, Any]) -> ExperimentRecord:
    record = ExperimentRecord("id", "name", "file.py", "")
    record.applied_objects = list(objects)
    record.mesh = {"backend": "local", "context": None, "dataplane": dataplane}
    return record


def test_a_waypoint_skips_source_scoped_matches_and_rules_left_without_one() -> None:
    (seen,) = as_a_waypoint_runs([SCOPED])
    rules = seen["spec"]["http"]
    assert len(rules) == 2  # the delay's only match was scoped: the rule is never taken
    assert rules[0]["match"] == [{"headers": {"end-user": {"exact": "jason"}}}]
    assert rules[0]["timeout"] == "1s"
    assert "match" not in rules[1]
    assert len(SCOPED["spec"]["http"]) == 3  # the applied object is left as it was


def test_the_scoped_faults_weakening_is_a_mutant_with_sidecars_only() -> None:
    sidecar = _record("sidecar", SCOPED).to_json()["mutations"]
    ambient = _record("ambient", SCOPED).to_json()["mutations"]
    assert "halve-fault-percent" in sidecar
    assert "halve-fault-percent" not in ambient
    # The rule a waypoint still takes (by its header match) keeps its mutants.
    assert "drop-timeout" in ambient
    assert "drop-header-match" in ambient


def test_without_a_data_plane_or_source_labels_nothing_changes() -> None:
    plain = yaml.safe_load(yaml.safe_dump(SCOPED))
    for rule in plain["spec"]["http"]:
        for match in rule.get("match") or []:
            match.pop("sourceLabels", None)
        rule["match"] = [m for m in rule.get("match") or [] if m] or None
        if rule["match"] is None:
            rule.pop("match")
    assert as_a_waypoint_runs([plain]) == [plain]
    assert (
        _record(None, SCOPED).to_json()["mutations"]
        == (_record("sidecar", SCOPED).to_json()["mutations"])
    )
