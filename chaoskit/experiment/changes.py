"""Snapshots of resources before a change, to restore them afterwards (rollback).

A change remembers the object as it was (or that it did not exist). Rolling back puts the
snapshot back (replace, with the current resourceVersion) or deletes what the run created.
The journal of a run is also written to disk, so the next run can heal what a crashed one
left behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit.kube.objects import RUN_LABEL, clean

__all__ = ["RUN_LABEL", "Change", "Journal", "clean"]


@dataclass
class Change:
    kind: str
    namespace: str
    name: str
    before: dict[str, Any] | None  # None: the run created it
    after: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "before": self.before,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        return cls(data["kind"], data["namespace"], data["name"], data.get("before"))


class Journal:
    """The run's changes on disk (``<dir>/<run-id>.json``), removed once rolled back."""

    def __init__(self, directory: Path, run_id: str) -> None:
        self.path = directory / f"{run_id}.json"
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, changes: list[Change], extra: dict[str, Any] | None = None) -> None:
        payload = {"changes": [c.to_json() for c in changes], **(extra or {})}
        self.path.write_text(json.dumps(payload))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    @staticmethod
    def leftovers(directory: Path, current: str) -> list[tuple[Path, list[Change]]]:
        found = []
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            if path.stem == current:
                continue
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            found.append((path, [Change.from_json(c) for c in data.get("changes", [])]))
        return found
