"""The state every check reads: the resources by kind, the registry, and the report sink."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from chaoskit.analysis.messages import MESSAGE_TYPES, Message
from chaoskit.analysis.registry import Registry, to_fqdn
from chaoskit.istio.loading import LoadedResource
from chaoskit.istio.resources import DestinationRule, Gateway, IstioResource, VirtualService

R = TypeVar("R", bound=IstioResource)


@dataclass(slots=True)
class Context:
    resources: list[LoadedResource]
    registry: Registry
    messages: list[Message] = field(default_factory=list)

    def of_kind(self, kind: type[R]) -> Iterator[tuple[LoadedResource, R]]:
        for loaded in self.resources:
            if isinstance(loaded.resource, kind):
                yield loaded, loaded.resource

    def report(
        self,
        code: str,
        loaded: LoadedResource,
        path: str,
        *args: object,
        fix: str = "",
    ) -> None:
        self.messages.append(
            Message(
                type=MESSAGE_TYPES[code],
                args=args,
                source=loaded.source,
                document=loaded.document.index,
                line=loaded.line_of(path),
                path=path,
                kind=loaded.kind,
                resource=f"{loaded.namespace}/{loaded.name}",
                fix=fix,
            )
        )

    def destination_rules_for(self, fqdn: str) -> list[tuple[LoadedResource, DestinationRule]]:
        return [
            (loaded, dr)
            for loaded, dr in self.of_kind(DestinationRule)
            if to_fqdn(dr.spec.host, loaded.namespace) == fqdn
        ]

    def subsets_for(self, fqdn: str) -> list[str]:
        return sorted(
            {
                subset.name
                for _, dr in self.destination_rules_for(fqdn)
                for subset in dr.spec.subsets or []
            }
        )

    def gateway(self, namespace: str, name: str) -> tuple[LoadedResource, Gateway] | None:
        for loaded, gateway in self.of_kind(Gateway):
            if loaded.namespace == namespace and loaded.name == name:
                return loaded, gateway
        return None

    def virtual_services(self) -> Iterator[tuple[LoadedResource, VirtualService]]:
        return self.of_kind(VirtualService)
