"""Drive Istio resources and pods through the official ``kubernetes`` client.

The same calls reach the embedded mesh (its control plane serves the Kubernetes REST
paths) and a real cluster. Only ``/chaoskit/v1/*`` extensions (sync wait, kill, restart,
proxy status) are specific to the embedded mesh; on a cluster they raise BackendError.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from kubernetes import client as k8s, config as k8s_config
from kubernetes.client.exceptions import ApiException

from chaoskit.errors import BackendError, ConfigError
from chaoskit.istio.resources import GROUP, RESOURCE_TYPES, IstioResource

PREFERRED_VERSION = "v1"
JsonObject = dict[str, Any]


class ResourceRejected(ConfigError):
    """The API server refused a resource (422 from Istio's validation webhook)."""


@dataclass(frozen=True, slots=True)
class Applied:
    kind: str
    namespace: str
    name: str
    action: str  # created | configured | unchanged | deleted | not found
    resource_version: int

    def describe(self) -> str:
        plural = RESOURCE_TYPES[self.kind].plural if self.kind in RESOURCE_TYPES else self.kind
        return f"{plural}.{GROUP}/{self.name} {self.action}"


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or exc.reason or exc)


class KubeClient:
    def __init__(self, api_client: k8s.ApiClient, *, embedded: bool) -> None:
        self.api_client = api_client
        self.custom = k8s.CustomObjectsApi(api_client)
        self.core = k8s.CoreV1Api(api_client)
        self.embedded = embedded

    @classmethod
    def from_kubeconfig(
        cls, path: str | None = None, context: str | None = None, *, embedded: bool = False
    ) -> KubeClient:
        configuration = k8s.Configuration()
        try:
            k8s_config.load_kube_config(
                config_file=path, context=context, client_configuration=configuration
            )
        except (k8s_config.ConfigException, OSError) as exc:
            raise BackendError(
                f"cannot load kubeconfig {path or '~/.kube/config'}: {exc}"
            ) from None
        return cls(k8s.ApiClient(configuration), embedded=embedded)

    def close(self) -> None:
        self.api_client.close()

    # --- raw calls ------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """A JSON request on any path, authenticated as the kubeconfig says."""
        params = self.api_client.param_serialize(
            method,
            path,
            query_params=list((query or {}).items()),
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self.api_client.call_api(*params)
            data = response.read()
        except ApiException as exc:
            raise self._error(exc, f"{method} {path}") from None
        if response.status >= 400:
            raise self._error(
                ApiException(status=response.status, reason=response.reason, body=data),
                f"{method} {path}",
            )
        return json.loads(data) if data else None

    @staticmethod
    def _error(exc: ApiException, what: str) -> Exception:
        message = _status_message(exc)
        if exc.status == 422:
            return ResourceRejected(message)
        if exc.status == 401:
            return BackendError(f"{what}: unauthorized; the kubeconfig's token is not accepted")
        return BackendError(f"{what}: {exc.status} {message}")

    # --- Istio resources -----------------------------------------------------------------------

    def get(self, plural: str, namespace: str, name: str) -> JsonObject | None:
        try:
            obj = self.custom.get_namespaced_custom_object(
                GROUP, PREFERRED_VERSION, namespace, plural, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise self._error(exc, f"get {plural}/{name}") from None
        return dict(cast(JsonObject, obj))

    def list_resources(
        self, plural: str, namespace: str | None = None, label_selector: str = ""
    ) -> list[JsonObject]:
        try:
            if namespace is None:
                result = self.custom.list_cluster_custom_object(
                    GROUP, PREFERRED_VERSION, plural, label_selector=label_selector
                )
            else:
                result = self.custom.list_namespaced_custom_object(
                    GROUP, PREFERRED_VERSION, namespace, plural, label_selector=label_selector
                )
        except ApiException as exc:
            raise self._error(exc, f"list {plural}") from None
        return list(cast(JsonObject, result).get("items", []))

    def apply(
        self, resource: IstioResource, namespace: str, labels: dict[str, str] | None = None
    ) -> Applied:
        """Create or replace, like ``kubectl apply`` for a whole object."""
        cls = type(resource)
        body = resource.to_yaml_dict()
        body.pop("status", None)
        metadata = body.setdefault("metadata", {})
        metadata["namespace"] = namespace
        if labels:
            metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
        name = metadata.get("name", "")
        version = str(body.get("apiVersion", "")).rpartition("/")[2] or PREFERRED_VERSION
        current = self.get(cls.plural, namespace, name)
        try:
            if current is None:
                created = cast(
                    JsonObject,
                    self.custom.create_namespaced_custom_object(
                        GROUP, version, namespace, cls.plural, body
                    ),
                )
                return Applied(
                    cls.kind_name,
                    namespace,
                    name,
                    "created",
                    int(created["metadata"]["resourceVersion"]),
                )
            if current.get("spec") == body.get("spec") and (
                current["metadata"].get("labels") or {}
            ) == (metadata.get("labels") or {}):
                return Applied(
                    cls.kind_name,
                    namespace,
                    name,
                    "unchanged",
                    int(current["metadata"]["resourceVersion"]),
                )
            metadata["resourceVersion"] = current["metadata"]["resourceVersion"]
            replaced = cast(
                JsonObject,
                self.custom.replace_namespaced_custom_object(
                    GROUP, version, namespace, cls.plural, name, body
                ),
            )
            return Applied(
                cls.kind_name,
                namespace,
                name,
                "configured",
                int(replaced["metadata"]["resourceVersion"]),
            )
        except ApiException as exc:
            raise self._error(exc, f"apply {cls.plural}/{namespace}/{name}") from None

    def delete(self, kind: str, namespace: str, name: str) -> Applied:
        cls = RESOURCE_TYPES[kind]
        try:
            self.custom.delete_namespaced_custom_object(
                GROUP, PREFERRED_VERSION, namespace, cls.plural, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return Applied(kind, namespace, name, "not found", 0)
            raise self._error(exc, f"delete {cls.plural}/{namespace}/{name}") from None
        return Applied(kind, namespace, name, "deleted", 0)

    def delete_labelled(self, label_selector: str, namespaces: Iterable[str]) -> int:
        """Delete every Istio resource carrying the labels (sweeps leftovers of crashed runs)."""
        removed = 0
        for cls in RESOURCE_TYPES.values():
            for namespace in namespaces:
                items = self.list_resources(cls.plural, namespace, label_selector)
                for item in items:
                    self.delete(cls.kind_name, namespace, item["metadata"]["name"])
                    removed += 1
        return removed

    # --- pods ----------------------------------------------------------------------------------

    def pods(self, namespace: str | None = None, label_selector: str = "") -> list[JsonObject]:
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        query = {"labelSelector": label_selector} if label_selector else None
        result = self.call("GET", path, query=query)
        return list(result.get("items", [])) if result else []

    def patch_pod(self, namespace: str, name: str, patch: JsonObject) -> JsonObject:
        path = f"/api/v1/namespaces/{namespace}/pods/{name}"
        return dict(
            self.call("PATCH", path, body=patch, content_type="application/merge-patch+json")
        )

    def delete_pod(self, namespace: str, name: str) -> None:
        self.call("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}")

    # --- embedded-mesh extensions --------------------------------------------------------------

    def _embedded_only(self, what: str) -> None:
        if not self.embedded:
            raise BackendError(f"{what} is only available on the embedded mesh")

    def wait_synced(self, min_version: int, timeout_s: float = 10.0) -> JsonObject:
        self._embedded_only("waiting for proxy sync")
        return dict(
            self.call(
                "GET",
                "/chaoskit/v1/sync",
                query={"minVersion": str(min_version), "timeoutSeconds": str(timeout_s)},
            )
        )

    def proxy_status(self) -> JsonObject:
        self._embedded_only("proxy-status")
        return dict(self.call("GET", "/chaoskit/v1/proxy-status"))

    def kill_pod(self, namespace: str, name: str) -> JsonObject:
        self._embedded_only("killing a pod process")
        return dict(self.call("POST", f"/chaoskit/v1/namespaces/{namespace}/pods/{name}/kill"))

    def restart_pod(self, namespace: str, name: str) -> JsonObject:
        self._embedded_only("restarting a pod process")
        return dict(self.call("POST", f"/chaoskit/v1/namespaces/{namespace}/pods/{name}/restart"))
