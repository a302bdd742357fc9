"""IST0167 for L7 policy ambient mode cannot apply (chaoskit/analysis/ambient.py).

The mesh is tests/data/mesh/ambient-mesh.yaml: namespace ``mesh`` has a waypoint, ``l4``
is enrolled in ambient without one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.analysis import analyze_resources
from chaoskit.analysis.messages import Message
from chaoskit.istio.loading import load_text
from chaoskit.topology.spec import MeshSpec

SPEC = Path(__file__).resolve().parents[2] / "data" / "mesh" / "ambient-mesh.yaml"

ABORT = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: httpbin, namespace: {ns}}}
spec:
  hosts: [httpbin]
  http:
  - fault: {{abort: {{httpStatus: 503, percentage: {{value: 100}}}}}}
    route: [{{destination: {{host: httpbin}}}}]
"""
OUTLIER = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: httpbin, namespace: {ns}}}
spec:
  host: httpbin
  trafficPolicy:
    outlierDetection: {{consecutive5xxErrors: 1}}
"""


@pytest.fixture(scope="module")
def ambient_mesh() -> MeshSpec:
    return MeshSpec.load(SPEC)


def ineffective(text: str, mesh: MeshSpec) -> list[Message]:
    result = load_text(text, "in.yaml")
    assert not result.problems, [p.describe() for p in result.problems]
    return [m for m in analyze_resources(result.resources, mesh=mesh) if m.type.code == "IST0167"]


def test_a_fault_for_an_ambient_service_without_a_waypoint_has_no_impact(
    ambient_mesh: MeshSpec,
) -> None:
    [message] = ineffective(ABORT.format(ns="l4"), ambient_mesh)
    assert message.level.label == "Warning"
    assert message.path == "spec.hosts[0]"
    assert message.text.startswith("The policy has no impact: host httpbin is in namespace l4, ")
    assert message.fix.startswith("deploy a waypoint for namespace l4: istioctl waypoint apply")
    assert message.line == 5  # the hosts line of in.yaml


def test_a_destination_rule_policy_without_a_waypoint_has_no_impact(
    ambient_mesh: MeshSpec,
) -> None:
    [message] = ineffective(OUTLIER.format(ns="l4"), ambient_mesh)
    assert (message.path, message.resource) == ("spec.trafficPolicy", "l4/httpbin")
    assert "outlier detection" in message.text


def test_with_a_waypoint_the_same_policy_is_not_reported(ambient_mesh: MeshSpec) -> None:
    assert (
        ineffective(ABORT.format(ns="mesh") + "---\n" + OUTLIER.format(ns="mesh"), ambient_mesh)
        == []
    )


def test_a_source_labels_match_at_a_waypoint_is_reported(ambient_mesh: MeshSpec) -> None:
    text = ABORT.format(ns="mesh").replace(
        "  - fault:", "  - match: [{sourceLabels: {app: fortio}}]\n    fault:"
    )
    [message] = ineffective(text, ambient_mesh)
    assert message.path == "spec.http[0].match[0].sourceLabels"
    assert "waypoint mesh/waypoint, which drops matches on sourceLabels" in message.text


def test_a_sidecar_mesh_gets_no_ambient_findings() -> None:
    text = ABORT.format(ns="bookinfo").replace("httpbin", "reviews")
    assert ineffective(text, MeshSpec.default()) == []


def test_a_virtual_service_from_another_namespace_is_not_read_by_the_waypoint(
    ambient_mesh: MeshSpec,
) -> None:
    text = ABORT.format(ns="l4").replace(
        "hosts: [httpbin]", "hosts: [httpbin.mesh.svc.cluster.local]"
    )
    [message] = ineffective(text, ambient_mesh)
    assert "reads VirtualServices only from namespace mesh, not l4" in message.text
    assert message.fix == "move the VirtualService to namespace mesh"
