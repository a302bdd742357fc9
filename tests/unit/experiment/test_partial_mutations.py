"""Partial weakenings keep the protection and loosen its setting, only where the config
has the field, and never into a config Istio would reject."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.errors import ConfigError
from chaoskit.experiment.backend import validate
from chaoskit.experiment.mutations import OPERATORS, declared_uncatchable, mutate

RESOURCES = Path(__file__).resolve().parents[3] / "chaoskit" / "samples"
PARTIAL = [name for name, operator in OPERATORS.items() if operator.partial]


def load(name: str) -> list[dict[str, Any]]:
    return [o for o in yaml.safe_load_all((RESOURCES / "seed" / name).read_text()) if o]


def outlier(obj: dict[str, Any]) -> dict[str, Any]:
    return dict(obj["spec"]["trafficPolicy"]["outlierDetection"])


def test_the_seed_templates_loosened_as_the_issue_lists() -> None:
    canary, pool = load("02-canary.yaml")
    (breaker,) = load("03-circuit-breaker.yaml")
    (retries,) = load("04-retries-timeouts.yaml")
    (fault,) = load("06-fault-injection.yaml")
    weights = [d["weight"] for d in mutate(canary, "shift-weights")["spec"]["http"][0]["route"]]
    assert weights == [80, 20]
    route = mutate(retries, "double-timeout")["spec"]["http"][0]
    assert (route["timeout"], route["retries"]["perTryTimeout"]) == ("20s", "6s")
    assert outlier(mutate(breaker, "raise-consecutive-5xx"))["consecutive5xxErrors"] == 50
    assert outlier(mutate(breaker, "halve-base-ejection-time"))["baseEjectionTime"] == "15s"
    assert outlier(mutate(breaker, "raise-max-ejection"))["maxEjectionPercent"] == 100
    raised = mutate(fault, "raise-fault-percent")["spec"]["http"][0]["fault"]
    assert (raised["delay"]["percentage"]["value"], raised["abort"]["percentage"]["value"]) == (
        15,
        7.5,
    )
    http = mutate(pool, "raise-pending-limit")["spec"]["trafficPolicy"]["connectionPool"]["http"]
    assert http["http1MaxPendingRequests"] == 1000
    # Everything else of the object is left as it was.
    weakened = mutate(breaker, "raise-max-ejection")
    assert {**outlier(weakened), "maxEjectionPercent": 50} == outlier(breaker)


@pytest.mark.parametrize(
    ("weights", "shifted"),
    [
        ([90, 10], [80, 20]),
        ([80, 20], [60, 40]),
        ([60, 40], [50, 50]),
        ([70, 20, 10], [60, 20, 20]),
    ],
)
def test_shift_weights_doubles_the_smallest_never_past_even(
    weights: list[int], shifted: list[int]
) -> None:
    route = [{"destination": {"host": f"h{i}"}, "weight": w} for i, w in enumerate(weights)]
    vs = {"kind": "VirtualService", "spec": {"hosts": ["h"], "http": [{"route": route}]}}
    weakened = mutate(vs, "shift-weights")
    assert [d["weight"] for d in weakened["spec"]["http"][0]["route"]] == shifted
    even = [{**d, "weight": 50} for d in route[:2]]
    assert (
        mutate({**vs, "spec": {"hosts": ["h"], "http": [{"route": even}]}}, "shift-weights") is None
    )


def policy_with(**outlier_detection: Any) -> dict[str, Any]:
    return {
        "kind": "DestinationRule",
        "metadata": {"name": "r", "namespace": "bookinfo"},
        "spec": {"host": "r", "trafficPolicy": {"outlierDetection": outlier_detection}},
    }


def test_the_limits_istio_sets_are_respected() -> None:
    # agent.ValidateDuration: whole milliseconds, at least 1 ms; so 1 ms cannot be halved,
    # and 3 ms halves to 1 ms rather than 1.5 ms.
    assert mutate(policy_with(baseEjectionTime="1ms"), "halve-base-ejection-time") is None
    halved = mutate(policy_with(baseEjectionTime="3ms"), "halve-base-ejection-time")
    assert outlier(halved)["baseEjectionTime"] == "1ms"
    assert outlier(mutate(policy_with(baseEjectionTime="3s"), "halve-base-ejection-time")) == {
        "baseEjectionTime": "1500ms"
    }
    # Already at the loosest setting, or switched off: nothing to loosen.
    assert mutate(policy_with(maxEjectionPercent=100), "raise-max-ejection") is None
    assert mutate(policy_with(consecutive5xxErrors=0), "raise-consecutive-5xx") is None
    route = {"route": [{"destination": {"host": "r"}}], "timeout": "0s"}
    full = {"abort": {"percentage": {"value": 100}, "httpStatus": 503}}
    vs = {"kind": "VirtualService", "spec": {"hosts": ["r"], "http": [route]}}
    assert mutate(vs, "double-timeout") is None
    assert (
        mutate(
            {**vs, "spec": {"hosts": ["r"], "http": [{**route, "fault": full}]}},
            "raise-fault-percent",
        )
        is None
    )
    capped = {"abort": {"percentage": {"value": 80}, "httpStatus": 503}}
    raised = mutate(
        {**vs, "spec": {"hosts": ["r"], "http": [{**route, "fault": capped}]}},
        "raise-fault-percent",
    )
    assert raised["spec"]["http"][0]["fault"]["abort"]["percentage"]["value"] == 100


def test_an_absent_field_is_istios_default_and_left_alone() -> None:
    for name in ("raise-consecutive-5xx", "halve-base-ejection-time", "raise-max-ejection"):
        assert mutate(policy_with(interval="1s"), name) is None


def resource_files() -> list[Path]:
    return sorted(RESOURCES.rglob("*.yaml"))


@pytest.mark.parametrize("path", resource_files(), ids=lambda p: str(p.relative_to(RESOURCES)))
def test_every_partial_mutant_of_the_suites_config_is_one_istio_accepts(path: Path) -> None:
    objects = [o for o in yaml.safe_load_all(path.read_text()) if o]
    for name in PARTIAL:
        for obj in objects:
            weakened = mutate(obj, name)
            if weakened is not None:
                validate([weakened], f"{path.name} weakened by {name}")


def test_declarations_name_partial_weakenings_with_a_reason() -> None:
    why = "cannot tell 80/20 from 90/10 at n=1200"
    assert declared_uncatchable({"shift-weights": f" {why} "}, "t") == {"shift-weights": why}
    with pytest.raises(ConfigError, match="a removal; every experiment must catch"):
        declared_uncatchable({"drop-timeout": why}, "t")
    with pytest.raises(ConfigError, match="'shift-weight', no operator; write uncatchable"):
        declared_uncatchable({"shift-weight": why}, "t")
    with pytest.raises(ConfigError, match="gives no reason for 'shift-weights'"):
        declared_uncatchable({"shift-weights": ""}, "t")
    with pytest.raises(ConfigError, match="must map operator names to reasons, got list"):
        declared_uncatchable(["shift-weights"], "t")
