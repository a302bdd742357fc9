"""What an app gets from its pod (identity, env, an outbound client) and what it must do."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chaoskit.mesh.http.message import Request, Response

Outbound = Callable[[Request, int], Awaitable[Response]]  # request, destination port


class AppSettingsError(ValueError):
    """Settings an app cannot take; the message names the field and the accepted form."""


@dataclass(frozen=True, slots=True)
class AppContext:
    pod: str
    namespace: str
    ip: str
    labels: Mapping[str, str]
    env: Mapping[str, str]
    outbound: Outbound
    seed: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.labels.get("version", "")

    @property
    def service(self) -> str:
        return self.labels.get("app", self.pod)


class App(Protocol):
    async def handle(self, request: Request) -> Response: ...

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Replace the run-time settings (latency, errors, fault modes); raise AppSettingsError."""
        ...

    def settings(self) -> dict[str, Any]: ...


# name → "module:factory"; imported lazily so a pod loads only its own app.
_APPS: dict[str, str] = {
    "echo": "chaoskit.mesh.apps.echo:EchoApp",
    "httpbin": "chaoskit.mesh.apps.httpbin:HttpbinApp",
    "fortio": "chaoskit.mesh.apps.fortio:FortioApp",
    "bookinfo-productpage": "chaoskit.mesh.apps.bookinfo.productpage:ProductPageApp",
    "bookinfo-details": "chaoskit.mesh.apps.bookinfo.details:DetailsApp",
    "bookinfo-reviews": "chaoskit.mesh.apps.bookinfo.reviews:ReviewsApp",
    "bookinfo-ratings": "chaoskit.mesh.apps.bookinfo.ratings:RatingsApp",
}


def register_app(name: str, target: str) -> None:
    _APPS[name] = target


def app_module(name: str) -> str | None:
    """The module that implements app ``name`` (None for an unknown name)."""
    target = _APPS.get(name)
    return target.partition(":")[0] if target is not None else None


def available_apps() -> list[str]:
    return sorted(_APPS)


def create_app(name: str, context: AppContext, settings: Mapping[str, Any]) -> App:
    try:
        target = _APPS[name]
    except KeyError:
        raise AppSettingsError(
            f"unknown app {name!r}; available: {', '.join(available_apps())}"
        ) from None
    module_name, _, attr = target.partition(":")
    factory: Callable[[AppContext], App] = getattr(importlib.import_module(module_name), attr)
    app = factory(context)
    app.configure(settings)
    return app
