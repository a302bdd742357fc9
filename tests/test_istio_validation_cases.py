"""chaoskit's webhook rules against cases of Istio's ``validation_test.go``.

``tests/data/istio-validation/cases.yaml`` (see its README) gives each case's resource and
Istio's verdict: accepted or refused, and whether a warning comes with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.istio.loading import load_text

DATA = Path(__file__).parent / "data" / "istio-validation"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yaml").read_text())
KINDS = {
    "TestValidateDestinationRule": "DestinationRule",
    "TestValidateServiceEntries": "ServiceEntry",
    "TestValidateVirtualService": "VirtualService",
    "TestValidateGateway": "Gateway",
}
# Component tests validate one message; it is placed where a user writes it, in a resource
# that is otherwise valid: a route of a VirtualService, a DestinationRule's trafficPolicy, or
# the port of a Gateway's server.
ROUTE = {"route": [{"destination": {"host": "reviews"}}]}


def _placed(case: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind, spec) of a case: its own spec, or its component message ``in`` placed ``at``."""
    if "spec" in case:
        return KINDS[case["test"]], case["spec"]
    at, message = case["at"], case["in"]
    if at.startswith("trafficPolicy."):
        policy = {at.split(".", 1)[1]: message}
        return "DestinationRule", {"host": "reviews", "trafficPolicy": policy}
    if at == "server.port":
        server = {"hosts": ["foo.bar.com"], "port": message}
        return "Gateway", {"selector": {"istio": "ingressgateway"}, "servers": [server]}
    if at == "redirect":  # a redirect replaces the route's destinations
        return "VirtualService", {"hosts": ["reviews"], "http": [{"redirect": message}]}
    route: dict[str, Any] = dict(ROUTE)
    if at.startswith("fault."):
        route["fault"] = {at.split(".", 1)[1]: message}
    else:
        route[at] = message
    return "VirtualService", {"hosts": ["reviews"], "http": [route]}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['test']}/{c['name']}" for c in CASES])
def test_verdict_matches_istio(case: dict[str, Any]) -> None:
    kind, spec = _placed(case)
    resource = {
        "apiVersion": "networking.istio.io/v1",
        "kind": kind,
        "metadata": {"name": "case", "namespace": "default"},
        "spec": spec,
    }
    problems = load_text(yaml.safe_dump(resource), "case.yaml").problems
    verdict = {
        "valid": not any(p.level == "Error" for p in problems),
        "warning": any(p.level == "Warning" for p in problems),
    }
    expected = {"valid": case["valid"], "warning": case.get("warning", verdict["warning"])}
    assert verdict == expected, [p.describe() for p in problems]
