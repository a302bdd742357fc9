"""Run every check over a set of resources, as ``istioctl analyze`` does over files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chaoskit.analysis.checks import ALL_CHECKS
from chaoskit.analysis.context import Context
from chaoskit.analysis.messages import Level, Message
from chaoskit.analysis.registry import Registry
from chaoskit.istio.loading import DEFAULT_NAMESPACE, LoadedResource, load_files
from chaoskit.topology.spec import MeshSpec


@dataclass(slots=True)
class AnalysisResult:
    messages: list[Message] = field(default_factory=list)
    resources: list[LoadedResource] = field(default_factory=list)

    @property
    def namespaces(self) -> list[str]:
        return sorted({r.namespace for r in self.resources})

    def at_least(self, level: Level) -> list[Message]:
        return [m for m in self.messages if m.level >= level]

    def failed(self, threshold: Level = Level.ERROR) -> bool:
        return bool(self.at_least(threshold))


def analyze_resources(
    resources: Sequence[LoadedResource], *, mesh: MeshSpec | None = None
) -> list[Message]:
    """Messages for already-loaded resources (the last definition of a name wins)."""
    unique: dict[tuple[str, str, str], LoadedResource] = {}
    for loaded in resources:
        unique[(loaded.kind, loaded.namespace, loaded.name)] = loaded
    kept = list(unique.values())
    ctx = Context(kept, Registry.build(mesh, kept))
    for check in ALL_CHECKS:
        check(ctx)
    return ctx.messages


def analyze_paths(
    paths: Iterable[str | Path],
    *,
    mesh: MeshSpec | None = None,
    default_namespace: str = DEFAULT_NAMESPACE,
    recursive: bool = False,
) -> AnalysisResult:
    """Load ``paths`` and analyze them as one configuration, like ``istioctl analyze FILES``."""
    loaded = load_files(paths, default_namespace=default_namespace, recursive=recursive)
    messages = [Message.from_problem(p, fix=_fix_for(p.code)) for p in loaded.problems]
    # Resources with schema errors are analyzed too, as istioctl's file source keeps them.
    messages += analyze_resources(loaded.analyzable, mesh=mesh)
    messages.sort(key=lambda m: (m.source or "", m.document or 0, m.line or 0, m.type.code))
    return AnalysisResult(messages, loaded.analyzable)


def _fix_for(code: str) -> str:
    if code == "IST0106":
        return "Istio's validating webhook would refuse this resource; correct the field"
    return ""
