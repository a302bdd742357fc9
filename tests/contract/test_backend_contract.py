"""KubeBackend against two API servers: the fake one and the embedded mesh's real one.

Every test here runs on both. The embedded mesh (one per module; it takes a few seconds to
start) is chaoskit's own Kubernetes-style API server with Istio's validation, the fake one
mimics a cluster's; the backend must behave the same on each.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaoskit.cluster.backend import (
    MODIFIED_ANNOTATION,
    RUN_LABEL,
    BlastRadiusError,
    KubeBackend,
    RollbackError,
)
from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.kube.client import KubeClient
from chaoskit.kube.undo import Journal, ObjectRef, ObjectUndo, TargetIdentity
from tests.contract.fake_apiserver import FakeApiServer

NS = "bookinfo"
PLURAL = "virtualservices"


def ratings_vs(delay: str = "7s", name: str = "ratings") -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "hosts": ["ratings"],
            "http": [
                {
                    "fault": {"delay": {"fixedDelay": delay, "percentage": {"value": 100.0}}},
                    "route": [{"destination": {"host": "ratings"}}],
                }
            ],
        },
    }


def reviews_dr() -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {
            "name": "reviews",
            "namespace": NS,
            "labels": {"team": "books"},
            "annotations": {"owner": "someone-else"},
        },
        "spec": {
            "host": "reviews",
            "subsets": [{"name": "v1", "labels": {"version": "v1"}}],
        },
    }


class Target:
    """One API server, with helpers that act as "somebody else" on it."""

    def __init__(self, name: str, client: KubeClient, journal_dir: Path) -> None:
        self.name = name
        self.client = client
        self.journal_dir = journal_dir

    def backend(self, run_id: str = "run-1", **kwargs: Any) -> KubeBackend:
        kwargs.setdefault("journal_dir", self.journal_dir)
        return KubeBackend(
            self.client, namespaces=[NS], run_id=run_id, sleep=lambda _s: None, **kwargs
        )

    def seed(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.client.create_object(plural, NS, copy.deepcopy(obj))

    def get(self, plural: str, name: str) -> dict[str, Any] | None:
        return self.client.get_object(plural, NS, name)

    def touch(self, plural: str, name: str) -> None:
        """Another writer changes the object (a new resourceVersion)."""
        current = self.get(plural, name)
        assert current is not None
        labels = current["metadata"].get("labels") or {}
        labels["touched"] = str(int(labels.get("touched", "0")) + 1)
        current["metadata"]["labels"] = labels
        self.client.replace_object(plural, NS, name, current)

    def cleanup(self) -> None:
        for plural in ("virtualservices", "destinationrules"):
            for item in self.client.list_resources(plural, NS):
                self.client.delete_object(plural, NS, item["metadata"]["name"])


@pytest.fixture(scope="module")
def embedded_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeshProcess]:
    process = MeshProcess.start(tmp_path_factory.mktemp("mesh"), seed=3)
    yield process
    process.stop()


@pytest.fixture(params=["fake", "embedded"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "fake":
        server = FakeApiServer().start(tmp_path)
        client = KubeClient.from_kubeconfig(str(server.kubeconfig), server.context)
        yield Target("fake", client, tmp_path / "journal")
        client.close()
        server.stop()
        return
    mesh: MeshProcess = request.getfixturevalue("embedded_mesh")
    client = KubeClient.from_kubeconfig(mesh.info.kubeconfig, embedded=True)
    t = Target("embedded", client, tmp_path / "journal")
    t.cleanup()
    yield t
    t.cleanup()
    client.close()


def comparable(obj: dict[str, Any] | None) -> dict[str, Any]:
    assert obj is not None
    meta = obj["metadata"]
    return {
        "spec": obj["spec"],
        "labels": meta.get("labels") or {},
        "annotations": meta.get("annotations") or {},
    }


def test_a_created_object_is_labelled_and_rollback_deletes_it(target: Target) -> None:
    backend = target.backend()
    change = backend.apply(ratings_vs())
    assert change.action == "created"
    created = target.get(PLURAL, "ratings")
    assert created is not None
    assert created["metadata"]["labels"][RUN_LABEL] == "run-1"
    assert created["spec"]["http"][0]["fault"]["delay"]["fixedDelay"] == "7s"
    assert backend.pending == [f"virtualservices.networking.istio.io {NS}/ratings"]
    assert backend.rollback() == [
        f"virtualservices.networking.istio.io {NS}/ratings deleted (the run created it)"
    ]
    assert target.get(PLURAL, "ratings") is None
    assert not (target.journal_dir / "run-1.json").exists()


def test_rollback_restores_the_exact_previous_object(target: Target) -> None:
    before = target.seed("destinationrules", reviews_dr())
    backend = target.backend()
    changed = reviews_dr()
    changed["metadata"]["labels"] = {"team": "chaos"}
    changed["spec"]["trafficPolicy"] = {
        "outlierDetection": {"consecutive5xxErrors": 1, "interval": "1s", "baseEjectionTime": "30s"}
    }
    assert backend.apply(changed).action == "configured"
    during = target.get("destinationrules", "reviews")
    assert during is not None
    assert during["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 1
    assert during["metadata"]["annotations"][MODIFIED_ANNOTATION] == "run-1"
    assert RUN_LABEL not in during["metadata"]["labels"]  # not ours: sweep must never delete it
    assert backend.rollback() == [f"destinationrules.networking.istio.io {NS}/reviews restored"]
    after = target.get("destinationrules", "reviews")
    assert comparable(after) == comparable(before)
    assert after is not None
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]


def test_applying_twice_rolls_back_to_the_state_before_the_first(target: Target) -> None:
    before = target.seed(PLURAL, ratings_vs("1s"))
    backend = target.backend()
    backend.apply(ratings_vs("3s"))
    backend.apply(ratings_vs("5s"))
    assert backend.apply(ratings_vs("5s")).action == "unchanged"
    backend.rollback()
    assert comparable(target.get(PLURAL, "ratings")) == comparable(before)


def test_a_deleted_object_is_recreated_by_rollback(target: Target) -> None:
    before = target.seed("destinationrules", reviews_dr())
    backend = target.backend()
    assert backend.delete("DestinationRule", NS, "reviews").action == "deleted"
    assert target.get("destinationrules", "reviews") is None
    assert backend.delete("DestinationRule", NS, "reviews").action == "absent"
    assert backend.rollback() == [f"destinationrules.networking.istio.io {NS}/reviews re-created"]
    assert comparable(target.get("destinationrules", "reviews")) == comparable(before)


class RacingClient(KubeClient):
    """Another writer changes the object just before each of the first ``races`` PUTs (and
    DELETEs)."""

    def __init__(self, inner: KubeClient, target: Target, races: int) -> None:
        super().__init__(inner.api_client, embedded=inner.embedded, context=inner.context)
        self.target = target
        self.races = races
        self.puts = 0

    def _race(self, plural: str, name: str) -> None:
        if self.races > 0:
            self.races -= 1
            self.target.touch(plural, name)

    def replace_object(
        self, plural: str, namespace: str, name: str, body: Any, version: str = "v1"
    ) -> Any:
        self.puts += 1
        self._race(plural, name)
        return super().replace_object(plural, namespace, name, body, version)

    def delete_object(
        self,
        plural: str,
        namespace: str,
        name: str,
        version: str = "v1",
        *,
        resource_version: str | None = None,
    ) -> bool:
        self._race(plural, name)
        return super().delete_object(
            plural, namespace, name, version, resource_version=resource_version
        )


def fixed_delay(obj: dict[str, Any] | None) -> str:
    assert obj is not None
    return str(obj["spec"]["http"][0]["fault"]["delay"]["fixedDelay"])


def test_a_stale_write_is_a_409_and_is_retried_with_a_fresh_read(target: Target) -> None:
    target.seed(PLURAL, ratings_vs("1s"))
    racing = RacingClient(target.client, target, races=2)
    backend = KubeBackend(racing, namespaces=[NS], run_id="run-1", sleep=lambda _s: None)
    assert backend.apply(ratings_vs("9s")).action == "configured"
    assert racing.puts == 3  # two 409s, then success
    assert fixed_delay(target.get(PLURAL, "ratings")) == "9s"


def test_rollback_never_overwrites_a_change_made_while_it_writes(target: Target) -> None:
    """The other writer's change lands between rollback's read and its write: the write is
    a 409 and is not retried over it."""
    target.seed(PLURAL, ratings_vs("1s"))
    racing = RacingClient(target.client, target, races=0)
    backend = KubeBackend(racing, namespaces=[NS], run_id="run-1", sleep=lambda _s: None)
    backend.apply(ratings_vs("9s"))
    racing.races = 1
    with pytest.raises(RollbackError) as error:
        backend.rollback()
    assert error.value.failed == []
    (conflict,) = error.value.conflicts
    assert conflict.startswith(
        f"virtualservices.networking.istio.io {NS}/ratings was changed by somebody else while "
        "rollback wrote it"
    )
    kept = target.get(PLURAL, "ratings")
    assert fixed_delay(kept) == "9s"  # the other writer's version, not the snapshot
    assert kept is not None
    assert kept["metadata"]["labels"]["touched"] == "1"
    assert backend.pending == []  # a person resolves it; a retry would not


def test_rollback_reports_objects_changed_since_the_runs_write_and_undoes_the_rest(
    target: Target,
) -> None:
    target.seed("destinationrules", reviews_dr())
    backend = target.backend()
    changed = reviews_dr()
    changed["spec"]["subsets"].append({"name": "v2", "labels": {"version": "v2"}})
    backend.apply(changed)
    backend.apply(ratings_vs("7s"))
    backend.apply(ratings_vs(name="ratings-untouched"))
    target.touch("destinationrules", "reviews")  # somebody else, after the run's writes
    target.touch(PLURAL, "ratings")
    with pytest.raises(RollbackError) as error:
        backend.rollback()
    message = str(error.value)
    assert message.startswith(
        "rollback left these as somebody else changed them since this run's write "
        "(not overwritten):\n"
    )
    snapshot = target.journal_dir / "conflicts" / "run-1" / f"destinationrules.{NS}.reviews.json"
    reviews, ratings = sorted(error.value.conflicts)
    assert reviews.startswith(
        f"destinationrules.networking.istio.io {NS}/reviews was changed by somebody else after "
        "this run's write (resourceVersion "
    )
    assert reviews.endswith(
        f"the run's snapshot is in {snapshot}; check `kubectl get -n {NS} "
        "destinationrules.networking.istio.io reviews -o yaml` and, if the snapshot should win, "
        f"`kubectl apply -f {snapshot}`"
    )
    assert json.loads(snapshot.read_text())["spec"] == reviews_dr()["spec"]
    assert ratings.endswith(
        "the run had created it; if it should go: kubectl delete -n bookinfo "
        "virtualservices.networking.istio.io ratings"
    )
    # both are as the other writer left them; the rest of the run is undone
    dr = target.get("destinationrules", "reviews")
    assert dr is not None
    assert [s["name"] for s in dr["spec"]["subsets"]] == ["v1", "v2"]
    assert target.get(PLURAL, "ratings") is not None
    assert target.get(PLURAL, "ratings-untouched") is None
    assert backend.pending == []
    assert not (target.journal_dir / "run-1.json").exists()


def test_a_created_object_is_deleted_only_at_the_runs_resource_version(target: Target) -> None:
    racing = RacingClient(target.client, target, races=0)
    backend = KubeBackend(racing, namespaces=[NS], run_id="run-1", sleep=lambda _s: None)
    backend.apply(ratings_vs())
    racing.races = 1  # touched between rollback's read and its DELETE: the precondition holds it
    with pytest.raises(RollbackError, match="while rollback wrote it"):
        backend.rollback()
    assert target.get(PLURAL, "ratings") is not None


def test_an_object_deleted_by_somebody_else_is_not_re_created(target: Target) -> None:
    target.seed("destinationrules", reviews_dr())
    backend = target.backend()
    changed = reviews_dr()
    changed["spec"]["subsets"] = []
    backend.apply(changed)
    target.client.delete_object("destinationrules", NS, "reviews")
    with pytest.raises(RollbackError, match="was deleted by somebody else after this run's write"):
        backend.rollback()
    assert target.get("destinationrules", "reviews") is None


def test_a_crashed_runs_journal_does_not_overwrite_a_later_change(target: Target) -> None:
    target.seed("destinationrules", reviews_dr())
    crashed = target.backend("crashed-run")
    changed = reviews_dr()
    changed["spec"]["subsets"].append({"name": "v2", "labels": {"version": "v2"}})
    crashed.apply(changed)
    del crashed
    target.touch("destinationrules", "reviews")  # somebody fixed it by hand meanwhile
    later = target.get("destinationrules", "reviews")
    next_run = target.backend("next-run")
    assert next_run.recover() == []
    assert comparable(target.get("destinationrules", "reviews")) == comparable(later)
    (notice,) = next_run.notices
    assert f"crashed-run.json: destinationrules.networking.istio.io {NS}/reviews was changed" in (
        notice
    )
    assert not (target.journal_dir / "crashed-run.json").exists()  # reported, not retried


def test_sweep_deletes_what_crashed_runs_created_and_nothing_else(target: Target) -> None:
    target.seed("destinationrules", reviews_dr())
    crashed = target.backend("crashed-run", journal_dir=None)
    crashed.apply(ratings_vs())
    crashed.apply(ratings_vs(name="ratings-extra"))
    del crashed  # the process died: no rollback ran
    survivor = target.backend("next-run")
    removed = survivor.sweep("chaoskit.dev/run=crashed-run")
    assert sorted(removed) == [
        f"virtualservices.networking.istio.io {NS}/ratings",
        f"virtualservices.networking.istio.io {NS}/ratings-extra",
    ]
    assert target.client.list_resources(PLURAL, NS) == []
    assert target.get("destinationrules", "reviews") is not None  # never labelled, kept


def test_a_crashed_runs_journal_restores_what_it_modified(target: Target) -> None:
    before = target.seed("destinationrules", reviews_dr())
    crashed = target.backend("crashed-run")
    changed = reviews_dr()
    changed["spec"]["subsets"].append({"name": "v2", "labels": {"version": "v2"}})
    crashed.apply(changed)
    assert (target.journal_dir / "crashed-run.json").exists()
    del crashed
    restored = target.backend("next-run").recover()
    assert restored == [f"destinationrules.networking.istio.io {NS}/reviews restored"]
    assert comparable(target.get("destinationrules", "reviews")) == comparable(before)
    assert not (target.journal_dir / "crashed-run.json").exists()


def test_changes_outside_the_declared_namespaces_are_refused_before_any_request(
    target: Target,
) -> None:
    backend = target.backend()
    outside = ratings_vs()
    outside["metadata"]["namespace"] = "default"
    with pytest.raises(BlastRadiusError, match=r"namespace 'default' is outside .*\(bookinfo\)"):
        backend.apply(outside)
    with pytest.raises(BlastRadiusError, match="outside"):
        backend.delete("VirtualService", "istio-system", "anything")
    with pytest.raises(BlastRadiusError, match="kill pod"):
        backend.kill_pod("istio-system", "istiod-1")
    with pytest.raises(BlastRadiusError, match=r"default/ratings"):
        backend.preflight(apply=[ratings_vs(), outside])
    assert target.client.list_resources(PLURAL, "default") == []
    assert backend.pending == []


def test_preflight_says_what_would_change_without_changing_it(target: Target) -> None:
    target.seed("destinationrules", reviews_dr())
    backend = target.backend()
    planned = backend.preflight(
        apply=[ratings_vs(), reviews_dr()],
        delete=[("DestinationRule", NS, "reviews"), ("VirtualService", NS, "nothing")],
    )
    described = [p.describe() for p in planned]
    assert described[0] == (
        f"create virtualservices.networking.istio.io {NS}/ratings (labelled chaoskit.dev/run=run-1)"
    )
    assert described[1].startswith(
        f"replace destinationrules.networking.istio.io {NS}/reviews (from resourceVersion "
    )
    assert described[2] == f"delete destinationrules.networking.istio.io {NS}/reviews"
    assert described[3] == (
        f"absent virtualservices.networking.istio.io {NS}/nothing (nothing to delete)"
    )
    assert target.get(PLURAL, "ratings") is None
    assert backend.pending == []


# --- journals are replayed only on the cluster that wrote them ---------------------------------


def test_a_journal_records_the_cluster_it_was_written_for(target: Target) -> None:
    backend = target.backend()
    backend.apply(ratings_vs())
    written = json.loads((target.journal_dir / "run-1.json").read_text())
    assert written["target"] == backend.identity.to_json()
    assert written["target"]["server"] == target.client.server
    assert written["target"]["context"]  # the kubeconfig's context, named even when implied
    backend.rollback()


def test_a_journal_from_another_cluster_is_left_in_place_and_never_applied(
    target: Target,
) -> None:
    """A crashed kind run's journal must not "restore" its snapshot onto this API server,
    whether it is another cluster or the embedded mesh."""
    mine = target.seed("destinationrules", reviews_dr())
    elsewhere = TargetIdentity("kind-chaoskit", "https://127.0.0.1:39999", "uid-of-kube-system")
    snapshot = reviews_dr()
    snapshot["spec"]["subsets"] = [{"name": "from-the-other-cluster", "labels": {"v": "x"}}]
    ref = ObjectRef("DestinationRule", NS, "reviews")
    crashed = Journal.for_run(target.journal_dir, "crashed-kind-run", elsewhere)
    crashed.write([ObjectUndo(ref, None), ObjectUndo(ObjectRef("VirtualService", NS, "x"), None)])
    crashed_there = Journal.for_run(target.journal_dir, "crashed-too", elsewhere)
    crashed_there.write([ObjectUndo(ref, snapshot)])

    backend = target.backend("next-run")
    assert backend.recover() == []
    assert comparable(target.get("destinationrules", "reviews")) == comparable(mine)
    assert crashed.path.exists()  # kept for their cluster
    assert crashed_there.path.exists()
    assert len(backend.notices) == 2
    assert backend.notices[0] == (
        f"journal {crashed.path} left in place, not replayed on {backend.identity.describe()}: "
        f"it was written for {elsewhere.describe()}, not {backend.identity.describe()}"
    )


def test_a_journal_that_does_not_name_its_cluster_is_not_replayed(target: Target) -> None:
    mine = target.seed("destinationrules", reviews_dr())
    old = target.journal_dir / "old-run.json"
    old.parent.mkdir(parents=True, exist_ok=True)
    record = ObjectUndo(ObjectRef("DestinationRule", NS, "reviews"), None).to_json()
    old.write_text(json.dumps([record]))  # the first journal format: no target
    backend = target.backend("next-run")
    assert backend.recover() == []
    assert comparable(target.get("destinationrules", "reviews")) == comparable(mine)
    assert old.exists()
    (notice,) = backend.notices
    assert notice.endswith(
        "it does not say which cluster it was written for (an older chaoskit wrote it)"
    )
