"""A fault asked for on a service an HTTPRoute routes is an ERROR (no verdict) that says
Gateway API has no fault injection and what to use instead: a VirtualService fault for the
host would lose to the HTTPRoute (istiod selects it first for callers in its namespace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPERIMENT = '''
from __future__ import annotations

ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ratings, namespace: bookinfo}
spec:
  parentRefs: [{group: "", kind: Service, name: ratings, port: 9080}]
  rules:
  - backendRefs: [{name: ratings, port: 9080}]
    timeouts: {request: 3s}
"""


def test_ratings_delay_under_an_httproute(chaos, load):
    chaos.apply(ROUTE)
    chaos.delay("ratings", "7s")
'''


def test_a_fault_on_a_service_an_httproute_routes_is_an_error_naming_the_way_out(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_route=EXPERIMENT)
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}")
    result.stdout.fnmatch_lines(
        ["*ERROR*test_ratings_delay_under_an_httproute*HTTPRoute bookinfo/ratings*"]
    )
    (experiment,) = json.loads((tmp_path / "results.json").read_text())["experiments"]
    assert experiment["outcome"] == "error"
    text = json.dumps(experiment)
    assert "Gateway API has no fault injection" in text
    assert "VirtualService" in text
