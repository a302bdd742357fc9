"""The pull-request tutorial's example, run as its CI job runs it: ``pytest`` in
``examples/shop`` (whose pytest.ini names the twin's mesh.yaml in ``chaos_spec``).

Its experiments hold on the config as checked in, and both fail once the protection they
test is removed from a copy: the pricing route's retries, the cart DestinationRule's outlier
detection. That is what makes them worth running on every pull request.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"


def _run(directory: Path, report: Path) -> tuple[int, dict[str, dict[str, Any]], str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"--chaos-report={report}"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    results = json.loads((report / "results.json").read_text())
    experiments = {e["name"]: e for e in results["experiments"]}
    assert results["run"]["mesh"].get("spec") == str(directory / "mesh.yaml"), (
        done.stdout + done.stderr
    )
    return done.returncode, experiments, done.stdout + done.stderr


def _success_rate(experiment: dict[str, Any]) -> dict[str, Any]:
    (check,) = [a for a in experiment["assertions"] if a["subject"] == "success rate"]
    return dict(check)


def test_the_shop_experiments_hold_on_the_config_as_checked_in(tmp_path: Path) -> None:
    code, experiments, output = _run(EXAMPLE, tmp_path / "report")
    assert code == 0, output
    assert sorted(experiments) == [
        "test_a_failing_cart_replica_is_ejected",
        "test_a_slow_pricing_replica_is_retried_on_the_other",
    ]
    for experiment in experiments.values():
        assert experiment["outcome"] == "held", output
        assert {a["verdict"] for a in experiment["assertions"]} == {"PASS"}


def test_they_fail_when_the_retries_and_the_outlier_detection_are_removed(
    tmp_path: Path,
) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=shutil.ignore_patterns("reports", "__pycache__"))
    pricing = shop / "resources" / "virtualservice-shop-pricing.yaml"
    route = yaml.safe_load(pricing.read_text())
    del route["spec"]["http"][0]["retries"]
    pricing.write_text(yaml.safe_dump(route))
    cart = shop / "resources" / "destinationrule-shop-cart.yaml"
    rule = yaml.safe_load(cart.read_text())
    del rule["spec"]["trafficPolicy"]  # outlier detection was its only policy
    cart.write_text(yaml.safe_dump(rule))

    code, experiments, output = _run(shop, tmp_path / "report")
    assert code == 1, output
    slow = experiments["test_a_slow_pricing_replica_is_retried_on_the_other"]
    failing = experiments["test_a_failing_cart_replica_is_ejected"]
    assert slow["outcome"] == failing["outcome"] == "failed"
    # The pages themselves failed, not only the evidence of the mechanism.
    assert _success_rate(slow)["verdict"] == "FAIL"
    assert _success_rate(failing)["verdict"] == "FAIL"
