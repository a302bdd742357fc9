"""The usual mistakes are caught before any load: a service the mesh does not have (or has
in another namespace), a percentage written as a fraction, and Locust's ``spawn_rate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chaoskit.errors import ChaoskitWarning, ConfigError
from chaoskit.experiment.backend import Pod
from chaoskit.experiment.chaos import Chaos
from chaoskit.experiment.driver import LoadDriver
from chaoskit.experiment.record import ExperimentRecord
from chaoskit.experiment.services import check_service

BOOKINFO = ("productpage", "details", "reviews", "ratings")


class Bookinfo:
    """Bookinfo's pods in ``bookinfo``, httpbin in ``default``; records what is applied."""

    def __init__(self) -> None:
        self.applied: list[dict[str, Any]] = []

    def pods(self, namespace: str | None = None, selector: str = "") -> list[Pod]:
        pods = [Pod(f"{a}-v1-0", "bookinfo", "", {"app": a}, True) for a in BOOKINFO]
        pods.append(Pod("httpbin-0", "default", "", {"app": "httpbin"}, True))
        return [p for p in pods if namespace in (None, p.namespace)]

    def list_objects(self) -> list[dict[str, Any]]:
        external = {"hosts": ["api.example.com"]}
        return [
            {
                "kind": "ServiceEntry",
                "metadata": {"name": "x", "namespace": "bookinfo"},
                "spec": external,
            }
        ]

    def apply_objects(self, objects: list[dict[str, Any]], run_id: str) -> list[Any]:
        self.applied.extend(objects)
        return []

    def log_mark(self, pod: Pod) -> int:
        return 0


def chaos(backend: Bookinfo) -> Chaos:
    return Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""))  # type: ignore[arg-type]


def test_a_misspelt_service_is_an_error_with_the_closest_name_before_anything_is_applied() -> None:
    backend = Bookinfo()
    with pytest.raises(
        ConfigError, match=r"no service 'detail' in namespace 'bookinfo'; did you mean 'details'\?"
    ):
        chaos(backend).delay("detail", "2s")
    assert backend.applied == []


def test_a_service_in_another_namespace_names_that_namespace() -> None:
    with pytest.raises(ConfigError, match=r"it runs in default: pass namespace='default'"):
        chaos(Bookinfo()).abort("httpbin", 503)


@pytest.mark.parametrize(
    "name", ["details", "details.bookinfo", "details.bookinfo.svc.cluster.local", "api.example.com"]
)
def test_every_spelling_of_a_known_service_passes(name: str) -> None:
    check_service(Bookinfo(), name, "bookinfo", "delay")  # type: ignore[arg-type]


def test_a_known_service_is_applied() -> None:
    backend = Bookinfo()
    chaos(backend).abort("ratings", 503)
    assert [o["kind"] for o in backend.applied] == ["VirtualService"]


def test_a_percentage_below_one_warns_that_it_may_have_been_meant_as_a_fraction() -> None:
    with pytest.warns(ChaoskitWarning, match=r"percent=0.5 injects into 0.5% .*write percent=50"):
        chaos(Bookinfo()).abort("ratings", 503, percent=0.5)


def test_locusts_spawn_rate_is_refused_with_the_equivalent(tmp_path: Path) -> None:
    driver = LoadDriver(
        Bookinfo(),  # type: ignore[arg-type]
        ExperimentRecord("t", "t", "t.py", ""),
        chaos(Bookinfo()),
        workdir=tmp_path,
    )
    with pytest.raises(
        ConfigError, match=r"spawn_rate=2\): chaoskit does not ramp.*load.run\(users=n"
    ):
        driver.run(users=10, spawn_rate=2, duration="1s")


def test_a_subset_no_destination_rule_defines_is_named_with_those_defined() -> None:
    from chaoskit.experiment.subsets import missing_subsets

    dr = {
        "kind": "DestinationRule",
        "metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {"host": "reviews", "subsets": [{"name": "v1"}, {"name": "v2"}]},
    }
    vs = {
        "kind": "VirtualService",
        "metadata": {"name": "r", "namespace": "bookinfo"},
        "spec": {
            "http": [
                {
                    "route": [
                        {
                            "destination": {
                                "host": "reviews.bookinfo.svc.cluster.local",
                                "subset": "v2",
                            }
                        }
                    ]
                },
                {"route": [{"destination": {"host": "reviews", "subset": "v4"}}]},
            ]
        },
    }
    (line,) = missing_subsets([dr, vs], [vs])
    assert "subset 'v4' of reviews" in line
    assert "(IST0101; defined: v1, v2)" in line
