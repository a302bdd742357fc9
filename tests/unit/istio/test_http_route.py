"""HTTPRoute (gateway.networking.k8s.io) as chaoskit reads it: the CRD schema of gateway-api
v1.5.1 (the version istio/istio 1.30.3 pins), with located problems for what it refuses."""

from __future__ import annotations

import pytest

from chaoskit.istio.http_route import NO_FAULT_INJECTION
from chaoskit.istio.loading import load_text
from chaoskit.istio.resources import GatewayHTTPRoute

ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: bookinfo}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - backendRefs: [{name: reviews, port: 9080}]
"""


def _problems(rule_extra: str = "", text: str = ROUTE) -> list[tuple[str, str]]:
    result = load_text(text + rule_extra, "route.yaml")
    return [(p.path, p.message) for p in result.problems]


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_both_served_versions_load_with_the_api_servers_defaults(version: str) -> None:
    result = load_text(ROUTE.replace("/v1\n", f"/{version}\n", 1))
    assert not result.problems
    route = result.resources[0].resource
    assert isinstance(route, GatewayHTTPRoute)
    (rule,) = route.spec.rules
    # The CRD's defaults: a PathPrefix "/" match, and weight 1 per backendRef.
    assert [(m.path.type, m.path.value) for m in rule.matches] == [("PathPrefix", "/")]
    assert [b.weight for b in rule.backend_refs or ()] == [1]


def test_istios_group_is_not_served_for_httproute() -> None:
    text = ROUTE.replace("gateway.networking.k8s.io/v1", "networking.istio.io/v1")
    (problem,) = load_text(text, "route.yaml").problems
    assert problem.path == "apiVersion"
    assert "not served for HTTPRoute" in problem.message
    assert (
        problem.fix == "use one of gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1"
    )


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        ("{request: 1.5s}", "not a Gateway API duration (GEP-2257)"),
        ("{request: 250us}", "not a Gateway API duration (GEP-2257)"),
        ("{request: 1s, backendRequest: 2s}", "backendRequest timeout cannot be longer"),
    ],
)
def test_timeouts_follow_gep_2257_and_the_crds_rule(timeouts: str, expected: str) -> None:
    problems = _problems(f"    timeouts: {timeouts}\n")
    assert len(problems) == 1
    path, message = problems[0]
    assert path.startswith("spec.rules[0].timeouts")
    assert expected in message


def test_backend_request_may_exceed_a_zero_request_timeout() -> None:
    """A request timeout of 0s disables it, so the CRD's CEL rule lets backendRequest pass."""
    assert _problems("    timeouts: {request: 0s, backendRequest: 2s}\n") == []


def test_retry_codes_are_4xx_or_5xx() -> None:
    ((path, message),) = _problems("    retry: {codes: [503, 200]}\n")
    assert path == "spec.rules[0].retry.codes[1]"
    assert "400" in message


def test_a_service_backend_needs_a_port() -> None:
    text = ROUTE.replace("backendRefs: [{name: reviews, port: 9080}]", "backendRefs: [{name: x}]")
    ((path, message),) = _problems(text=text)
    assert path.startswith("spec.rules[0].backendRefs[0]")
    assert "Must have port for Service reference" in message


def test_fault_injection_is_refused_with_what_to_use_instead() -> None:
    result = load_text(ROUTE + "    fault: {abort: {httpStatus: 500}}\n", "route.yaml")
    (problem,) = result.problems
    assert problem.path == "spec.rules[0]"
    assert problem.line == 7  # the rule's first line
    assert "Gateway API has no fault injection" in problem.message
    assert "VirtualService" in problem.fix
    assert "waypoint" in problem.fix
    assert NO_FAULT_INJECTION.partition("; ")[2] == problem.fix


def test_an_unknown_filter_type_is_refused_by_the_schema() -> None:
    problems = _problems("    filters: [{type: Fault}]\n")
    assert [path for path, _ in problems] == ["spec.rules[0].filters[0].type"]


def test_redirect_and_backends_exclude_each_other() -> None:
    problems = _problems("    filters: [{type: RequestRedirect, requestRedirect: {port: 8443}}]\n")
    assert [m for _, m in problems if "must not be used together with backendRefs" in m]
