"""What was there before a change, and the journal that keeps it on disk.

Every backend (the embedded mesh and real clusters) snapshots an object before its first
write and restores the snapshot on rollback; the journal lets the next run heal what a
crashed one left behind. One format for both. Each journal names the target it was written
for (:class:`TargetIdentity`), and is replayed only on that target: a kind run's leftovers
must never be "restored" onto another cluster or the embedded mesh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoskit.errors import BackendError
from chaoskit.istio.resources import GROUP, RESOURCE_TYPES

JsonObject = dict[str, Any]
JOURNAL_FORMAT = "chaoskit.journal/2"


@dataclass(frozen=True, slots=True)
class TargetIdentity:
    """Which API server a journal's changes were made on.

    ``cluster_uid`` is the kube-system namespace's uid, empty where it cannot be read (the
    embedded mesh has none): it tells a re-created cluster from the old one behind the same
    context name and address.
    """

    context: str
    server: str
    cluster_uid: str = ""

    def describe(self) -> str:
        uid = f", kube-system uid {self.cluster_uid}" if self.cluster_uid else ""
        return f"context {self.context or '(none)'} ({self.server}{uid})"

    def to_json(self) -> JsonObject:
        return {"context": self.context, "server": self.server, "cluster_uid": self.cluster_uid}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TargetIdentity:
        return cls(
            str(data.get("context") or ""),
            str(data.get("server") or ""),
            str(data.get("cluster_uid") or ""),
        )


def target_mismatch(recorded: TargetIdentity | None, current: TargetIdentity) -> str:
    """Why a journal written for ``recorded`` must not be replayed on ``current`` ("" when
    it may). Every field must agree: a journal is never applied on a guess."""
    if recorded is None:
        return "it does not say which cluster it was written for (an older chaoskit wrote it)"
    if recorded == current:
        return ""
    if (recorded.context, recorded.server) == (current.context, current.server):
        return (
            f"it was written for {recorded.describe()}, and that cluster has been re-created "
            f"since ({current.describe()})"
        )
    return f"it was written for {recorded.describe()}, not {current.describe()}"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    kind: str
    namespace: str
    name: str

    @property
    def plural(self) -> str:
        return RESOURCE_TYPES[self.kind].plural

    def describe(self) -> str:
        return f"{self.plural}.{GROUP} {self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ObjectUndo:
    """An Istio object as it was before the run's first write to it (``before``; ``None``:
    absent), and what the run's own last write left, so that rollback never overwrites
    somebody else's later change:

    - ``written``: the run sent a write (``False``: it only looked; nothing to undo);
    - ``version``: the resourceVersion that write gave the object, or for a delete the one
      it deleted; empty when the write got no answer (its outcome is unknown);
    - ``deleted``: the last write was a delete.
    """

    ref: ObjectRef
    before: JsonObject | None
    written: bool = False
    version: str = ""
    deleted: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.ref.kind, self.ref.namespace, self.ref.name)

    def describe(self) -> str:
        return self.ref.describe()

    def same_snapshot(self, other: ObjectUndo) -> bool:
        """The same object and the same "before" (whatever was written since)."""
        return self.ref == other.ref and self.before == other.before

    def to_json(self) -> JsonObject:
        return {
            "type": "object",
            "kind": self.ref.kind,
            "namespace": self.ref.namespace,
            "name": self.ref.name,
            "before": self.before,
            "written": self.written,
            "version": self.version,
            "deleted": self.deleted,
        }


@dataclass(frozen=True, slots=True)
class ScaleUndo:
    """A Deployment's replica count before the run scaled it."""

    namespace: str
    deployment: str
    replicas: int

    def describe(self) -> str:
        return f"deployment {self.namespace}/{self.deployment} (replicas {self.replicas})"

    def to_json(self) -> JsonObject:
        return {
            "type": "scale",
            "namespace": self.namespace,
            "deployment": self.deployment,
            "replicas": self.replicas,
        }


Undo = ObjectUndo | ScaleUndo


def undo_from_json(data: Mapping[str, Any]) -> Undo:
    if data.get("type") == "scale":
        return ScaleUndo(str(data["namespace"]), str(data["deployment"]), int(data["replicas"]))
    ref = ObjectRef(str(data["kind"]), str(data["namespace"]), str(data["name"]))
    return ObjectUndo(
        ref,
        data.get("before"),
        written=bool(data.get("written", False)),
        version=str(data.get("version") or ""),
        deleted=bool(data.get("deleted", False)),
    )


class Journal:
    """The undo list on disk (``<dir>/<run id>.json``), removed once rolled back.

    ``target`` is written with it: the API server the changes were made on.
    """

    def __init__(self, path: Path, target: TargetIdentity | None = None) -> None:
        self.path = path
        self.target = target

    @classmethod
    def for_run(cls, directory: Path, run_id: str, target: TargetIdentity | None = None) -> Journal:
        return cls(directory / f"{run_id}.json", target)

    def write(self, undos: Sequence[Undo]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        payload = {
            "format": JOURNAL_FORMAT,
            "target": self.target.to_json() if self.target is not None else None,
            "undos": [u.to_json() for u in undos],
        }
        tmp.write_text(json.dumps(payload, indent=1))
        tmp.replace(self.path)  # a crash mid-write never leaves half a journal

    def _load(self) -> tuple[TargetIdentity | None, list[Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None, []
        except ValueError as exc:
            raise BackendError(f"journal {self.path} is not JSON: {exc}") from None
        if isinstance(data, list):  # the first format: undo records only, no target
            return None, data
        if not isinstance(data, dict) or not isinstance(data.get("undos"), list):
            raise BackendError(
                f"journal {self.path} is not a chaoskit journal (expected an object with "
                f"'undos', format {JOURNAL_FORMAT})"
            )
        target = data.get("target")
        return (TargetIdentity.from_json(target) if isinstance(target, dict) else None), data[
            "undos"
        ]

    def read(self) -> list[Undo]:
        return [undo_from_json(item) for item in self._load()[1]]

    def read_target(self) -> TargetIdentity | None:
        """The target the journal was written for; ``None`` when it does not say."""
        return self._load()[0]

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def leftover_journals(directory: Path, current: str) -> list[Journal]:
    """The journals other (crashed) runs left in ``directory``; ``current`` is this run."""
    if not directory.is_dir():
        return []
    return [Journal(p) for p in sorted(directory.glob("*.json")) if p.stem != current]
