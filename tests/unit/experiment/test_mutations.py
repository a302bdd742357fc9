"""Each weakening changes exactly the protection it names, and nothing when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaoskit.errors import ConfigError
from chaoskit.experiment.backend import validate
from chaoskit.experiment.mutate import Mutant
from chaoskit.experiment.mutations import OPERATORS, applicable, mutate

SEED = Path(__file__).resolve().parents[3] / "chaoskit" / "samples" / "seed"


def load(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [o for o in yaml.safe_load_all((SEED / name).read_text()) if o]


def test_drop_timeout_removes_route_and_per_try_timeouts() -> None:
    (vs,) = load("04-retries-timeouts.yaml")
    weakened = mutate(vs, "drop-timeout")
    route = weakened["spec"]["http"][0]
    assert "timeout" not in route
    assert "perTryTimeout" not in route["retries"]
    assert vs["spec"]["http"][0]["timeout"] == "10s"  # the original is untouched


def test_drop_retries_disables_them_rather_than_falling_back_to_istios_default() -> None:
    (vs,) = load("04-retries-timeouts.yaml")
    assert mutate(vs, "drop-retries")["spec"]["http"][0]["retries"] == {"attempts": 0}


def test_outlier_operators() -> None:
    (dr,) = load("03-circuit-breaker.yaml")
    assert "outlierDetection" not in mutate(dr, "drop-outlier-detection")["spec"]["trafficPolicy"]
    capped = mutate(dr, "max-ejection-below-one-host")["spec"]["trafficPolicy"]["outlierDetection"]
    assert capped["maxEjectionPercent"] == 1
    assert "connectionPool" not in mutate(dr, "drop-connection-pool")["spec"]["trafficPolicy"]


def test_a_policy_left_empty_is_removed_so_the_mutant_still_applies() -> None:
    """Dropping the only field of a trafficPolicy removes the policy: Istio rejects an
    empty one, and a mutant refused at apply time would count as caught unobserved."""
    dr = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "ratings", "namespace": "bookinfo"},
        "spec": {
            "host": "ratings",
            "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1}},
            "subsets": [
                {
                    "name": "v1",
                    "labels": {"version": "v1"},
                    "trafficPolicy": {
                        "portLevelSettings": [
                            {"port": {"number": 9080}, "outlierDetection": {"interval": "1s"}}
                        ]
                    },
                }
            ],
        },
    }
    weakened = mutate(dr, "drop-outlier-detection")
    assert weakened is not None
    assert "trafficPolicy" not in weakened["spec"]
    assert weakened["spec"]["subsets"] == [{"name": "v1", "labels": {"version": "v1"}}]
    validate([weakened], "weakened")  # raises ConfigError on an invalid resource
    empty = {**dr, "spec": {"host": "ratings", "trafficPolicy": {}}}
    with pytest.raises(ConfigError, match="trafficPolicy"):
        validate([empty], "empty policy")


def test_only_a_failed_experiment_catches_a_mutant() -> None:
    outcomes = {
        o: Mutant("drop-timeout", "t", o).caught
        for o in ("failed", "error", "inconclusive", "held")
    }
    assert outcomes == {"failed": True, "error": False, "inconclusive": False, "held": False}


def test_even_weights_and_other_route_operators() -> None:
    vs, _ = load("02-canary.yaml")
    weights = [d["weight"] for d in mutate(vs, "even-weights")["spec"]["http"][0]["route"]]
    assert weights == [50, 50]
    routing, _ = load("01-basic-routing.yaml")
    assert mutate(routing, "drop-header-match")["spec"]["http"][0]["match"] == [{}]
    (mirror,) = load("05-mirroring.yaml")
    assert "mirror" not in mutate(mirror, "drop-mirror")["spec"]["http"][0]
    (fault,) = load("06-fault-injection.yaml")
    halved = mutate(fault, "halve-fault-percent")["spec"]["http"][0]["fault"]
    assert (halved["delay"]["percentage"]["value"], halved["abort"]["percentage"]["value"]) == (
        5,
        2.5,
    )


def test_lb_and_gateway_operators() -> None:
    (sticky,) = load("09-sticky-sessions.yaml")
    policy = mutate(sticky, "drop-consistent-hash")["spec"]["trafficPolicy"]
    assert policy["loadBalancer"] == {"simple": "ROUND_ROBIN"}
    (balanced,) = load("08-load-balancing.yaml")
    weakened = mutate(balanced, "default-load-balancer")
    assert weakened is not None
    assert "trafficPolicy" not in weakened["spec"]  # nothing left: Istio's default applies
    gateway, _ = load("07-ingress-gateway.yaml")
    server = mutate(gateway, "drop-gateway-tls")["spec"]["servers"][0]
    assert "tls" not in server
    assert server["port"]["protocol"] == "HTTP"


@pytest.mark.parametrize("name", list(OPERATORS))
def test_an_operator_with_nothing_to_weaken_returns_none(name: str) -> None:
    (plain,) = load("08-load-balancing.yaml")
    plain["spec"]["trafficPolicy"]["loadBalancer"]["simple"] = "LEAST_REQUEST"  # the default
    assert mutate(plain, name) is None


def test_applicable_lists_what_would_change() -> None:
    assert applicable(load("03-circuit-breaker.yaml")) == [
        "drop-outlier-detection",
        "max-ejection-below-one-host",
        "drop-connection-pool",
        "raise-consecutive-5xx",
        "halve-base-ejection-time",
        "raise-max-ejection",
        "raise-pending-limit",
    ]
