"""Loading resources: every problem names file, document, line and field, and says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaoskit.errors import ResourceLoadError, ResourceValidationError
from chaoskit.istio.loading import dump_resources, load_files, load_resources, load_text
from chaoskit.istio.resources import DestinationRule, VirtualService

VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
"""


def only_problem(text: str) -> tuple[str, int | None, str, str]:
    result = load_text(text, "f.yaml")
    assert len(result.problems) == 1, [p.describe() for p in result.problems]
    p = result.problems[0]
    return p.code, p.line, p.path, p.message


@pytest.mark.parametrize("version", ["v1", "v1beta1", "v1alpha3"])
def test_all_served_api_versions_load(version: str) -> None:
    result = load_text(VS.replace("v1\n", f"{version}\n", 1))
    assert not result.problems
    assert isinstance(result.resources[0].resource, VirtualService)


def test_fields_use_istio_spelling_on_the_wire() -> None:
    text = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r}
spec:
  host: ratings
  trafficPolicy:
    connectionPool:
      http: {http1MaxPendingRequests: 1, http2MaxRequests: 2, h2UpgradePolicy: UPGRADE}
    outlierDetection: {consecutive5xxErrors: 1, consecutiveGatewayErrors: 2, interval: 1s}
    loadBalancer:
      consistentHash: {httpHeaderName: x-user-id}
"""
    [loaded] = load_text(text).resources
    dr = loaded.resource
    assert isinstance(dr, DestinationRule)
    assert dr.spec.traffic_policy is not None
    od = dr.spec.traffic_policy.outlier_detection
    assert od is not None
    assert od.consecutive_5xx_errors == 1
    dumped = yaml.safe_load(dump_resources([loaded]))
    assert dumped == yaml.safe_load(text)


def test_unknown_field_is_located_and_gets_a_suggestion() -> None:
    code, line, path, message = only_problem(VS + "    timeouts: 5s\n")
    assert (code, line, path) == ("IST0106", 11, "spec.http[0].timeouts")
    assert "unknown field 'timeouts'" in message
    assert "did you mean 'timeout'" in message


def test_unknown_field_suggestion_is_a_field_of_the_same_message() -> None:
    # `percent` is a field of `delay` (deprecated), not of `abort` (istio/api b8f8791d
    # networking/v1alpha3/virtual_service.proto:1515 and :1559-1579): the suggestion comes
    # from the abort message's own fields, and is never the unknown name itself.
    code, _, path, message = only_problem(
        VS + "    fault: {abort: {percent: 50, httpStatus: 503}}\n"
    )
    assert (code, path) == ("IST0106", "spec.http[0].fault.abort.percent")
    assert "unknown field 'percent'; did you mean 'percentage'?" in message


def test_service_entry_selector_suggests_labels_not_match_labels() -> None:
    # A ServiceEntry's workloadSelector is networking.v1alpha3.WorkloadSelector: `labels`
    # (istio/api b8f8791d networking/v1alpha3/service_entry.proto:603, sidecar.proto:587).
    text = (
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
        "metadata: {name: vm, namespace: bookinfo}\nspec:\n  hosts: [api.example.com]\n"
        "  resolution: STATIC\n  workloadSelector: {matchLabels: {app: vm}}\n"
    )
    _, _, path, message = only_problem(text)
    assert path == "spec.workloadSelector.matchLabels"
    assert "unknown field 'matchLabels'; did you mean 'labels'?" in message
    assert not load_text(text.replace("matchLabels", "labels")).problems


def test_an_unknown_field_never_suggests_itself() -> None:
    # `labels` is a field elsewhere (subsets, a ServiceEntry's selector), but a
    # DestinationRule's workloadSelector (istio.type.v1beta1) has `matchLabels`.
    text = (
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: r, namespace: bookinfo}\nspec:\n  host: reviews\n"
        "  workloadSelector: {labels: {app: productpage}}\n"
    )
    _, _, path, message = only_problem(text)
    assert path == "spec.workloadSelector.labels"
    assert "unknown field 'labels'; did you mean 'matchLabels'?" in message


def test_unknown_kind_suggests_the_closest() -> None:
    code, line, path, message = only_problem(
        VS.replace("kind: VirtualService", "kind: VirtualServce")
    )
    assert (code, line, path) == ("CK0001", 2, "kind")
    assert "did you mean 'VirtualService'" in message


def test_unsupported_api_version() -> None:
    code, line, path, message = only_problem(
        VS.replace("networking.istio.io/v1", "networking.istio.io/v2")
    )
    assert (code, line, path) == ("CK0001", 1, "apiVersion")
    assert message == "apiVersion 'networking.istio.io/v2' is not served for VirtualService"
    [problem] = load_text(VS.replace("networking.istio.io/v1", "networking.istio.io/v2")).problems
    assert "networking.istio.io/v1beta1" in problem.fix
    assert problem.describe().endswith("; fix: " + problem.fix)


def test_document_that_is_not_a_mapping() -> None:
    code, _, _, message = only_problem("- a\n- b\n")
    assert code == "CK0001"
    assert "document is a list, not a mapping" in message


def test_malformed_yaml_gives_the_line() -> None:
    code, line, _, message = only_problem("a: b\n  c: d\n")
    assert code == "CK0001"
    assert line == 2
    assert message.startswith("malformed YAML")


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    [problem] = load_files([empty]).problems
    assert "no YAML documents" in problem.message


def test_binary_and_huge_files_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    huge = tmp_path / "h.yaml"
    huge.write_bytes(b"#" * (5 * 1024 * 1024))
    problems = load_files([binary, huge]).problems
    assert ["binary" in problems[0].message, "refused" in problems[1].message] == [True, True]


def test_multi_document_positions() -> None:
    second = VS.replace("subset: v1}\n", "subset: v1}\n      weight: -1\n")
    text = VS + "---\n" + second
    result = load_text(text, "m.yaml")
    [problem] = result.problems
    assert (problem.document, problem.line, problem.path) == (2, 22, "spec.http[0].route[0].weight")
    assert len(result.resources) == 1


def test_strict_loader_raises_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(VS + "    timeout: 5\n", encoding="utf-8")
    with pytest.raises(ResourceValidationError, match=r"bad.yaml:11 \(document 1, VirtualService"):
        load_resources(bad)
    bad.write_text("a: [", encoding="utf-8")
    with pytest.raises(ResourceLoadError, match="malformed YAML"):
        load_resources(bad)


def test_directories_are_read_in_name_order_and_not_recursively(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(VS.replace("name: reviews", "name: b"), encoding="utf-8")
    (tmp_path / "a.yml").write_text(VS.replace("name: reviews", "name: a"), encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text(
        VS.replace("name: reviews", "name: c"), encoding="utf-8"
    )
    assert [r.name for r in load_files([tmp_path]).resources] == ["a", "b"]
    assert [r.name for r in load_files([tmp_path], recursive=True).resources] == ["a", "b", "c"]
