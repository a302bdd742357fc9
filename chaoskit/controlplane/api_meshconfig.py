"""``configmaps/istio`` in ``istio-system``: the mesh config, read and changed through the API.

Only that one ConfigMap exists (GET, PUT, and PATCH as a merge patch); any other name is
the API server's 404. What a change does is in ``chaoskit/controlplane/meshconfig.py``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from chaoskit.controlplane.meshconfig import NAME, NAMESPACE
from chaoskit.controlplane.store import BadRequest, NotFound, merge_patch

if TYPE_CHECKING:
    from chaoskit.controlplane.api import KubeApi


class MeshConfigRoutes:
    def __init__(self, api: KubeApi) -> None:
        self.api = api
        self.history = api.cp.mesh_config
        base = "/api/v1/namespaces/{namespace}/configmaps"
        api.app.router.add_get(base, self.list_configmaps)
        api.app.router.add_route("*", base + "/{name}", self.configmap)

    def _json(self) -> dict[str, Any]:
        created = datetime.datetime.fromtimestamp(self.api.started_at, datetime.UTC)
        return self.history.configmap(created.strftime("%Y-%m-%dT%H:%M:%SZ"))

    async def list_configmaps(self, request: web.Request) -> web.Response:
        namespace = request.match_info["namespace"]
        items = [self._json()] if namespace == NAMESPACE else []
        body = {"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {}, "items": items}
        return self.api.answer_list(request, "configmaps", body)

    async def configmap(self, request: web.Request) -> web.Response:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        if (namespace, name) != (NAMESPACE, NAME):
            raise NotFound(
                f'configmaps "{name}" not found',
                details={"name": name, "kind": "configmaps"},
            )
        if request.method == "GET":
            return self.api.answer_object(request, "configmaps", self._json())
        if request.method not in ("PUT", "PATCH"):
            raise BadRequest(f"{request.method} is not supported on configmaps {NAMESPACE}/{NAME}")
        body = await request.json()
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        updated = merge_patch(self._json(), body) if request.method == "PATCH" else body
        mesh = (updated.get("data") or {}).get("mesh")
        if not isinstance(mesh, str):
            raise BadRequest(f"configmaps {NAMESPACE}/{NAME}: data.mesh must be a string of YAML")
        self.history.replace(mesh)
        return web.json_response(self._json())
