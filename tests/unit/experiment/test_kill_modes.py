"""``chaos.kill``'s mode: passed to the backend, recorded, undone; a wrong one refused."""

from __future__ import annotations

import pytest

from chaoskit.errors import ConfigError
from chaoskit.experiment.backend import Pod
from chaoskit.experiment.chaos import Chaos
from chaoskit.experiment.record import ExperimentRecord


class Scripted:
    """Two ratings replicas; remembers every kill and restart it was asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.delays: list[float | None] = []

    def pods(self, namespace: str | None = None, selector: str = "") -> list[Pod]:
        return [Pod(f"ratings-{i}", "bookinfo", "", {"app": "ratings"}, True) for i in (1, 2)]

    def kill_pod(self, pod: Pod, mode: str, endpoint_delay_s: float | None = None) -> None:
        self.calls.append(("kill", pod.name, mode))
        self.delays.append(endpoint_delay_s)

    def restart_pod(self, pod: Pod) -> None:
        self.calls.append(("restart", pod.name, ""))

    def rollback(self, changes: list[object]) -> None:
        pass


def chaos_on(backend: Scripted) -> Chaos:
    return Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["app-crash", "pod-deleted", "node-lost"])
def test_the_mode_reaches_the_backend_and_the_record(mode: str) -> None:
    backend = Scripted()
    chaos = chaos_on(backend)
    fault = chaos.kill("ratings", replicas=2, mode=mode)
    assert backend.calls == [("kill", "ratings-1", mode), ("kill", "ratings-2", mode)]
    assert fault.description == f"{mode}: killed ratings-1, ratings-2"
    assert fault.record.yaml == f"mode: {mode}\n"
    chaos.rollback()
    assert backend.calls[2:] == [("restart", "ratings-2", ""), ("restart", "ratings-1", "")]


def test_the_default_mode_is_pod_deleted() -> None:
    backend = Scripted()
    chaos_on(backend).kill("ratings")
    assert backend.calls == [("kill", "ratings-1", "pod-deleted")]


def test_an_unknown_mode_is_refused_before_any_pod_is_touched() -> None:
    backend = Scripted()
    with pytest.raises(ConfigError, match=r"chaos.kill\('ratings'\): unknown kill mode 'crash'"):
        chaos_on(backend).kill("ratings", mode="crash")
    assert backend.calls == []


def test_an_endpoint_delay_is_a_duration_passed_on_in_seconds() -> None:
    backend = Scripted()
    chaos_on(backend).kill("ratings", mode="app-crash", endpoint_delay="1500ms")
    assert backend.delays == [1.5]


@pytest.mark.parametrize(
    ("mode", "delay", "message"),
    [
        ("node-lost", "2s", r"endpoint_delay does not apply; a lost node's endpoints stay"),
        ("pod-deleted", "2 seconds", r"chaos.kill\('ratings'\): .*2 seconds"),
    ],
)
def test_an_endpoint_delay_that_cannot_apply_is_refused(
    mode: str, delay: str, message: str
) -> None:
    backend = Scripted()
    with pytest.raises(ConfigError, match=message):
        chaos_on(backend).kill("ratings", mode=mode, endpoint_delay=delay)
    assert backend.calls == []
