"""What was there before a change, and the journal that keeps it on disk.

Every backend (the embedded mesh and real clusters) snapshots an object before its first
write and restores the snapshot on rollback; the journal lets the next run heal what a
crashed one left behind. One format for both, so either can recover the other's leftovers.
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
    """An Istio object as it was before the run's first write to it (``None``: absent)."""

    ref: ObjectRef
    before: JsonObject | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.ref.kind, self.ref.namespace, self.ref.name)

    def describe(self) -> str:
        return self.ref.describe()

    def to_json(self) -> JsonObject:
        return {
            "type": "object",
            "kind": self.ref.kind,
            "namespace": self.ref.namespace,
            "name": self.ref.name,
            "before": self.before,
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
    return ObjectUndo(ref, data.get("before"))


class Journal:
    """The undo list on disk (``<dir>/<run id>.json``), removed once rolled back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_run(cls, directory: Path, run_id: str) -> Journal:
        return cls(directory / f"{run_id}.json")

    def write(self, undos: Sequence[Undo]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([u.to_json() for u in undos], indent=1))
        tmp.replace(self.path)  # a crash mid-write never leaves half a journal

    def read(self) -> list[Undo]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise BackendError(f"journal {self.path} is not JSON: {exc}") from None
        if not isinstance(data, list):
            raise BackendError(f"journal {self.path} is not a list of undo records")
        return [undo_from_json(item) for item in data]

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def leftover_journals(directory: Path, current: str) -> list[Journal]:
    """The journals other (crashed) runs left in ``directory``; ``current`` is this run."""
    if not directory.is_dir():
        return []
    return [Journal(p) for p in sorted(directory.glob("*.json")) if p.stem != current]
