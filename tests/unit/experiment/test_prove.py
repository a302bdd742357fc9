"""Chaos.prove against a scripted backend: what it reads, and how often."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chaoskit.experiment.backend import Pod
from chaoskit.experiment.chaos import Chaos, Fault, FaultNotInEffect
from chaoskit.experiment.record import ExperimentRecord, FaultRecord

CONFIG = {
    "routes": [
        {
            "domains": ["ratings.bookinfo.svc.cluster.local:9080", "ratings"],
            "routes": [{"fault": {"abort_status": 503}}],
        }
    ]
}


class Scripted:
    """Two callers; both carry the fault and logged ten aborted calls to ratings."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.dumps = 0

    def pods(self, namespace: str | None = None, selector: str = "") -> list[Pod]:
        return [Pod(n, "bookinfo", "", {"app": n}, True) for n in ("reviews-v2", "reviews-v3")]

    def admin(self, pod: Pod, path: str) -> str:
        assert path == "/config_dump"
        self.dumps += 1
        return json.dumps(self.config)

    def access_log(
        self, pod: Pod, since: int, from_ts: float | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        record = {"direction": "outbound", "authority": "ratings:9080", "response_flags": "FI"}
        return 10, [record] * 10


def fault() -> Fault:
    record = FaultRecord("abort", "abort on ratings", "ratings.bookinfo", "", 0.0)
    return Fault(record, "ratings", "bookinfo", 100.0, "FI")


def test_the_config_is_read_once_per_fault_and_the_logs_after_every_window() -> None:
    backend = Scripted(CONFIG)
    chaos = Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""))  # type: ignore[arg-type]
    injected = fault()
    first = chaos.prove(injected)
    assert first["sidecars"] == ["reviews-v2", "reviews-v3"]
    assert backend.dumps == 2
    chaos.prove(injected)  # a second window: the logs again, not the config
    assert backend.dumps == 2


def test_a_fault_no_sidecar_carries_proves_nothing() -> None:
    backend = Scripted({"routes": []})
    chaos = Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""))  # type: ignore[arg-type]
    with pytest.raises(FaultNotInEffect, match="no sidecar has the fault"):
        chaos.prove(fault())


def test_applied_yaml_keeps_the_proof_of_each_fault_written_in_it() -> None:
    """A resources record (applied YAML) has the keys of one fault's proof, and each fault's
    own proof under ``faults``; proving one again (a second window) replaces its entry."""
    backend = Scripted(CONFIG)
    chaos = Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""))  # type: ignore[arg-type]
    parent = Fault(FaultRecord("resources", "VirtualService/ratings", "f.yaml", "", 0.0))
    first, second = fault(), fault()
    second.record.description = "abort on ratings, second route"
    first.parent = second.parent = parent

    chaos.prove(first)
    proof = parent.record.proof
    assert proof is not None
    assert proof["in_config"] is True
    assert proof["sidecars"] == ["reviews-v2", "reviews-v3"]
    assert proof["judgement"]["verdict"] == "PASS"
    assert [p["fault"] for p in proof["faults"]] == ["abort on ratings"]

    chaos.prove(second)
    chaos.prove(first)
    proof = parent.record.proof
    assert proof is not None
    assert proof["judgement"] is None  # two faults: each has its own
    assert sorted(p["fault"] for p in proof["faults"]) == [
        "abort on ratings",
        "abort on ratings, second route",
    ]
    assert all(p["judgement"]["verdict"] == "PASS" for p in proof["faults"])


class Unlucky(Scripted):
    """The callers carry the fault, but none of the ten logged calls was aborted."""

    def access_log(
        self, pod: Pod, since: int, from_ts: float | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        record = {"direction": "outbound", "authority": "ratings:9080", "response_flags": "-"}
        return 10, [record] * 5


def test_a_fault_not_seen_to_act_is_inconclusive() -> None:
    backend = Unlucky(CONFIG)
    chaos = Chaos(backend, "run", ExperimentRecord("t", "t", "t.py", ""))  # type: ignore[arg-type]
    low = fault()
    low.percent = 5.0
    with pytest.raises(FaultNotInEffect, match=r"was not seen to act.*about 135 requests"):
        chaos.prove(low)
