"""``chaos(needs_app=[...])``: a workload whose running pods all run the generic echo app
(a twin's) cannot show its own app behaviour; pods read from the API keep their containers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from chaoskit.experiment.backend import Pod
from chaoskit.experiment.session import ChaosSession
from chaoskit.plugin.fixtures import _generic_apps


def pod(name: str, app: str, container: str, *, running: bool = True) -> Pod:
    return Pod.from_json(
        {
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": app}},
            "spec": {"containers": [{"name": container}, {"name": "istio-proxy"}]},
            "status": {"phase": "Running" if running else "Failed", "podIP": "127.0.0.9"},
        }
    )


@dataclass
class Backend:
    pods_by_app: dict[str, list[Pod]] = field(default_factory=dict)

    def pods(self, namespace: str | None = None, selector: str = "") -> list[Pod]:
        return self.pods_by_app.get(selector.removeprefix("app="), [])


@dataclass
class Session:
    backend: Any


def generic(pods: dict[str, list[Pod]], needs: list[str]) -> list[str]:
    return _generic_apps(cast(ChaosSession, Session(Backend(pods))), needs)


def test_pods_keep_their_app_containers_without_the_sidecar() -> None:
    assert pod("checkout-1", "checkout", "echo").containers == ("echo",)


def test_only_workloads_running_the_generic_app_everywhere_are_named() -> None:
    pods = {
        "checkout": [pod("checkout-1", "checkout", "echo"), pod("checkout-2", "checkout", "echo")],
        "fortio": [pod("fortio-1", "fortio", "fortio")],
        # One replica runs the real app: its behaviour can still be seen.
        "payments": [pod("payments-1", "payments", "echo"), pod("payments-2", "payments", "pay")],
        # A stopped echo pod does not count against the running real one.
        "ratings": [
            pod("ratings-1", "ratings", "ratings"),
            pod("r-2", "ratings", "echo", running=False),
        ],
    }
    needs = ["shop/checkout", "fortio", "shop/payments", "ratings", "shop/absent"]
    # An absent workload is `needs`' business (a skip of its own), not this one's.
    assert generic(pods, needs) == ["shop/checkout"]
