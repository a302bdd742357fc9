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
}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['test']}/{c['name']}" for c in CASES])
def test_verdict_matches_istio(case: dict[str, Any]) -> None:
    resource = {
        "apiVersion": "networking.istio.io/v1",
        "kind": KINDS[case["test"]],
        "metadata": {"name": "case", "namespace": "default"},
        "spec": case["spec"],
    }
    problems = load_text(yaml.safe_dump(resource), "case.yaml").problems
    verdict = {
        "valid": not any(p.level == "Error" for p in problems),
        "warning": any(p.level == "Warning" for p in problems),
    }
    assert verdict == {"valid": case["valid"], "warning": case["warning"]}, [
        p.describe() for p in problems
    ]
