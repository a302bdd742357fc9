"""The applications that run inside pods of the embedded mesh, by name."""

from __future__ import annotations

from chaoskit.mesh.apps.base import App, AppContext, AppSettingsError, available_apps, create_app

__all__ = ["App", "AppContext", "AppSettingsError", "available_apps", "create_app"]
