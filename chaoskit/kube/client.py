"""Drive Istio resources and pods through the official ``kubernetes`` client.

The same calls reach the embedded mesh (its control plane serves the Kubernetes REST
paths) and a real cluster. Only ``/chaoskit/v1/*`` extensions (sync wait, kill, restart,
proxy status) are specific to the embedded mesh; on a cluster they raise BackendError.
What only a real cluster has (nodes, Deployments, ``pods/exec``) is here too, so that
``chaoskit.cluster`` never imports ``kubernetes`` itself.

Every request has a deadline (``request_timeout_s``). API errors become
:class:`ApiStatusError` (with the HTTP status), :class:`Conflict` for 409,
:class:`ResourceRejected` for 422 and :class:`ApiTimeout` when the server does not answer.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import urllib3
from kubernetes import client as k8s, config as k8s_config
from kubernetes.client.exceptions import ApiException

from chaoskit.errors import BackendError, ConfigError
from chaoskit.istio.resources import LOADABLE_TYPES, RESOURCE_TYPES, IstioResource, group_of
from chaoskit.kube.undo import TargetIdentity

PREFERRED_VERSION = "v1"
JsonObject = dict[str, Any]


DEFAULT_REQUEST_TIMEOUT_S = 30.0
# A dead API server (a stopped kind cluster, a stale kubeconfig) is named within seconds:
# connecting gets at most CONNECT_TIMEOUT_S, whatever the request's own deadline, and is
# tried CONNECT_ATTEMPTS times (urllib3 otherwise retries a connect three times), so an
# unreachable address fails within CONNECT_TIMEOUT_S * CONNECT_ATTEMPTS (6 s) and a refused
# port at once.
CONNECT_TIMEOUT_S = 3.0
CONNECT_ATTEMPTS = 2


class ResourceRejected(ConfigError):
    """The API server refused a resource: 422 from the CRD schema, or 400 from Istio's
    validating webhook."""


class ApiStatusError(BackendError):
    """The API server answered with an error status; ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class Conflict(ApiStatusError):
    """409: the object changed since it was read (stale resourceVersion) or already exists."""


class ApiTimeout(BackendError, TimeoutError):
    """The API server (or an exec session) did not answer within the deadline."""


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What a command run through ``pods/exec`` printed, and how it ended."""

    stdout: str
    stderr: str
    returncode: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class Applied:
    kind: str
    namespace: str
    name: str
    action: str  # created | configured | unchanged | deleted | not found
    resource_version: int

    def describe(self) -> str:
        plural = LOADABLE_TYPES[self.kind].plural if self.kind in LOADABLE_TYPES else self.kind
        return f"{plural}.{group_of(plural)}/{self.name} {self.action}"


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or exc.reason or exc)


def _status_reason(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return ""
    return str(body.get("reason") or "") if isinstance(body, dict) else ""


def _exit_status(text: str) -> tuple[int, str]:
    """The exit code and message in an exec session's error channel (a ``Status`` object)."""
    if not text.strip():
        return 0, ""
    try:
        status = json.loads(text)
    except ValueError:
        return 1, text.strip()
    if not isinstance(status, dict) or status.get("status") == "Success":
        return 0, ""
    message = str(status.get("message") or "")
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message")), message
            except (TypeError, ValueError):
                break
    return 1, message or str(status.get("reason") or "exec failed")


def _handshake_error(exc: ApiException, what: str) -> BackendError:
    """An exec websocket that was refused: the HTTP status and the ``Status`` message that
    websocket-client folds into the exception's reason."""
    # websocket-client puts the response headers between " -+-+- " markers: noise here.
    text = re.sub(r" -\+-\+- \{.*?\} -\+-\+-", "", str(exc.reason or exc))
    code = re.search(r"Handshake status (\d+)", text)
    message = text
    start = text.find('{"kind"')
    if start >= 0:
        with contextlib.suppress(ValueError):
            message = str(json.loads(text[start:]).get("message") or text)
    if code is None:
        return BackendError(f"{what}: {message}")
    return ApiStatusError(f"{what}: {code.group(1)} {message}", int(code.group(1)))


class KubeClient:
    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        embedded: bool,
        request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
        context: str | None = None,
    ) -> None:
        self.api_client = api_client
        self.custom = k8s.CustomObjectsApi(api_client)
        self.embedded = embedded
        self.request_timeout_s = request_timeout_s
        self.context = context
        self._exec_local = threading.local()
        self._exec_lock = threading.Lock()
        self._exec_clients: list[k8s.ApiClient] = []

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | None = None,
        context: str | None = None,
        *,
        embedded: bool = False,
        request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
    ) -> KubeClient:
        configuration = k8s.Configuration()
        # A read that timed out is reported, not retried: the deadline was the answer.
        configuration.retries = urllib3.Retry(total=3, connect=CONNECT_ATTEMPTS - 1, read=0)
        try:
            k8s_config.load_kube_config(
                config_file=path, context=context, client_configuration=configuration
            )
        except (k8s_config.ConfigException, OSError) as exc:
            raise BackendError(
                f"cannot load kubeconfig {path or '~/.kube/config'}: {exc}"
            ) from None
        if context is None:  # the current-context: name it, journals record it
            with contextlib.suppress(k8s_config.ConfigException, OSError, TypeError):
                _all, active = k8s_config.list_kube_config_contexts(config_file=path)
                context = str((active or {}).get("name") or "") or None
        return cls(
            k8s.ApiClient(configuration),
            embedded=embedded,
            request_timeout_s=request_timeout_s,
            context=context,
        )

    def _exec_api(self) -> Any:
        """A CoreV1Api on an ApiClient of this thread's own, for ``pods/exec``.

        The client library's websocket ``stream`` swaps ``call_api`` on the ApiClient it is
        given for the length of the call (``kubernetes/stream/stream.py``), so on a shared
        one another thread's request, or a concurrent exec, would go over the websocket
        and a concurrent restore could leave the swap in place. Only exec needs it, and
        loading CoreV1Api costs about a second the first time.
        """
        api = getattr(self._exec_local, "api", None)
        if api is None:
            own = k8s.ApiClient(self.api_client.configuration)
            with self._exec_lock:
                self._exec_clients.append(own)
            api = self._exec_local.api = k8s.CoreV1Api(own)
        return api

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    def close(self) -> None:
        self.api_client.close()
        with self._exec_lock:
            owned, self._exec_clients = self._exec_clients, []
        for own in owned:
            own.close()

    def identity(self) -> TargetIdentity:
        """Context, API server and kube-system's uid (empty when it cannot be read): what
        a journal records, so that it is replayed only where it was written."""
        uid = ""
        with contextlib.suppress(BackendError):  # no kube-system, or no right to read it
            namespace = self.namespace("kube-system")
            uid = str(((namespace or {}).get("metadata") or {}).get("uid") or "")
        return TargetIdentity(self.context or "", self.server, uid)

    # --- raw calls ------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> Any:
        """A JSON request on any path, authenticated as the kubeconfig says."""
        data = self._request(method, path, query, body, content_type, accept)
        return json.loads(data) if data else None

    def _request(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None,
        body: Any,
        content_type: str,
        accept: str,
    ) -> bytes:
        params = self.api_client.param_serialize(
            method,
            path,
            query_params=list((query or {}).items()),
            header_params={"Accept": accept, "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
        )
        what = f"{method} {path}"
        try:
            response = self.api_client.call_api(*params, _request_timeout=self._timeouts())
            data = bytes(response.read() or b"")
        except ApiException as exc:
            raise self._error(exc, what) from None
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error(exc, what) from None
        if response.status >= 400:
            raise self._error(
                ApiException(
                    status=response.status,
                    reason=response.reason,
                    body=data.decode("utf-8", "replace"),
                ),
                what,
            )
        return data

    def pod_log(
        self, namespace: str, name: str, container: str, since_s: float | None = None
    ) -> str:
        """A container's log with each line's timestamp (``kubectl logs --timestamps``),
        from ``since_s`` (epoch seconds; the API counts whole seconds) on."""
        query = {"container": container, "timestamps": "true"}
        if since_s is not None:
            moment = time.gmtime(int(since_s))
            query["sinceTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/log"
        return self._request("GET", path, query, None, "application/json", "text/plain").decode(
            "utf-8", "replace"
        )

    def _custom_call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> JsonObject:
        """One CustomObjectsApi call with the deadline; errors become chaoskit errors."""
        try:
            result = method(*args, _request_timeout=self._timeouts(), **kwargs)
        except ApiException as exc:
            raise self._error(exc, what) from None
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error(exc, what) from None
        return dict(cast(JsonObject, result or {}))

    def _timeouts(self) -> tuple[float, float]:
        """(connect, read) deadlines, as urllib3 takes them."""
        return min(CONNECT_TIMEOUT_S, self.request_timeout_s), self.request_timeout_s

    def _transport_error(self, exc: Exception, what: str) -> BackendError:
        reason = getattr(exc, "reason", None) or exc
        # urllib3 derives NewConnectionError (refused, unreachable) from ConnectTimeoutError,
        # so it is told apart first: a refused port is not a slow server.
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return BackendError(
                f"{what}: cannot reach the API server {self.server}: connection refused or "
                f"unreachable ({reason}); is the cluster running?"
            )
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
            connect_s = min(CONNECT_TIMEOUT_S, self.request_timeout_s)
            return ApiTimeout(
                f"{what}: cannot reach the API server {self.server}: no connection within "
                f"{connect_s:g}s ({CONNECT_ATTEMPTS} attempts); is the cluster running, and is "
                "the kubeconfig's server address right?"
            )
        if isinstance(reason, urllib3.exceptions.TimeoutError) or isinstance(
            exc, urllib3.exceptions.TimeoutError
        ):
            return ApiTimeout(
                f"{what}: the API server {self.server} did not answer within "
                f"{self.request_timeout_s:g}s"
            )
        return BackendError(f"{what}: cannot reach the API server {self.server}: {reason}")

    @staticmethod
    def _error(exc: ApiException, what: str) -> Exception:
        message = _status_message(exc)
        status = int(exc.status or 0)
        reason = _status_reason(exc)
        if status == 422 or (status == 400 and "denied the request" in message):
            # 422: the CRD's schema; 400: a validating webhook's denial (Istio's, relayed by
            # the API server as admission webhook "..." denied the request: ...).
            return ResourceRejected(message)
        if status == 401:
            return ApiStatusError(
                f"{what}: unauthorized; the kubeconfig's token is not accepted", 401, reason
            )
        if status == 409:
            return Conflict(f"{what}: 409 {message}", 409, reason)
        if status == 0:
            return BackendError(f"{what}: {exc.reason or exc}")
        label = f"{status} {reason}" if reason else str(status)
        return ApiStatusError(f"{what}: {label}: {message}", status, reason)

    # --- Istio resources -----------------------------------------------------------------------

    def get_object(
        self, plural: str, namespace: str, name: str, version: str = PREFERRED_VERSION
    ) -> JsonObject | None:
        """One Istio object, or ``None`` when there is none (404)."""
        try:
            return self._custom_call(
                f"get {plural}/{namespace}/{name}",
                self.custom.get_namespaced_custom_object,
                group_of(plural),
                version,
                namespace,
                plural,
                name,
            )
        except ApiStatusError as exc:
            if exc.status == 404:
                return None
            raise

    def get(self, plural: str, namespace: str, name: str) -> JsonObject | None:
        return self.get_object(plural, namespace, name)

    def create_object(
        self, plural: str, namespace: str, body: JsonObject, version: str = PREFERRED_VERSION
    ) -> JsonObject:
        name = (body.get("metadata") or {}).get("name", "")
        return self._custom_call(
            f"create {plural}/{namespace}/{name}",
            self.custom.create_namespaced_custom_object,
            group_of(plural),
            version,
            namespace,
            plural,
            body,
        )

    def replace_object(
        self,
        plural: str,
        namespace: str,
        name: str,
        body: JsonObject,
        version: str = PREFERRED_VERSION,
    ) -> JsonObject:
        """PUT; with ``metadata.resourceVersion`` set, a stale version is a :class:`Conflict`."""
        return self._custom_call(
            f"replace {plural}/{namespace}/{name}",
            self.custom.replace_namespaced_custom_object,
            group_of(plural),
            version,
            namespace,
            plural,
            name,
            body,
        )

    def delete_object(
        self,
        plural: str,
        namespace: str,
        name: str,
        version: str = PREFERRED_VERSION,
        *,
        resource_version: str | None = None,
    ) -> bool:
        """Delete; ``False`` when it was already gone. With ``resource_version``, only that
        version of the object is deleted (``preconditions``): a newer one is a
        :class:`Conflict`."""
        options = (
            k8s.V1DeleteOptions(
                preconditions=k8s.V1Preconditions(resource_version=resource_version)
            )
            if resource_version
            else None
        )
        try:
            self._custom_call(
                f"delete {plural}/{namespace}/{name}",
                self.custom.delete_namespaced_custom_object,
                group_of(plural),
                version,
                namespace,
                plural,
                name,
                body=options,
            )
        except ApiStatusError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def list_resources(
        self,
        plural: str,
        namespace: str | None = None,
        label_selector: str = "",
        version: str = PREFERRED_VERSION,
    ) -> list[JsonObject]:
        if namespace is None:
            result = self._custom_call(
                f"list {plural}",
                self.custom.list_cluster_custom_object,
                group_of(plural),
                version,
                plural,
                label_selector=label_selector,
            )
        else:
            result = self._custom_call(
                f"list {plural}",
                self.custom.list_namespaced_custom_object,
                group_of(plural),
                version,
                namespace,
                plural,
                label_selector=label_selector,
            )
        return list(result.get("items", []))

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
        current = self.get_object(cls.plural, namespace, name, version)
        if current is None:
            created = self.create_object(cls.plural, namespace, body, version)
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
        replaced = self.replace_object(cls.plural, namespace, name, body, version)
        return Applied(
            cls.kind_name,
            namespace,
            name,
            "configured",
            int(replaced["metadata"]["resourceVersion"]),
        )

    def delete(self, kind: str, namespace: str, name: str) -> Applied:
        cls = LOADABLE_TYPES[kind]
        # EnvoyFilter is served at v1alpha3 only; the other kinds at the preferred v1.
        version = (
            PREFERRED_VERSION if PREFERRED_VERSION in cls.api_versions else cls.api_versions[0]
        )
        if not self.delete_object(cls.plural, namespace, name, version):
            return Applied(kind, namespace, name, "not found", 0)
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

    # --- what only a real cluster has: nodes, namespaces, Deployments, pods/exec ----------------

    def nodes(self) -> list[JsonObject]:
        result = self.call("GET", "/api/v1/nodes")
        return list(result.get("items", [])) if result else []

    def namespace(self, name: str) -> JsonObject | None:
        try:
            return dict(self.call("GET", f"/api/v1/namespaces/{name}"))
        except ApiStatusError as exc:
            if exc.status == 404:
                return None
            raise

    def deployment(self, namespace: str, name: str) -> JsonObject:
        return dict(self.call("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"))

    def deployments(self, namespace: str, label_selector: str = "") -> list[JsonObject]:
        query = {"labelSelector": label_selector} if label_selector else None
        result = self.call("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments", query=query)
        return list(result.get("items", [])) if result else []

    def patch_deployment(self, namespace: str, name: str, patch: JsonObject) -> JsonObject:
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
        return dict(
            self.call("PATCH", path, body=patch, content_type="application/merge-patch+json")
        )

    def exec(
        self,
        namespace: str,
        pod: str,
        command: Iterable[str],
        *,
        container: str | None = None,
        timeout_s: float | None = None,
    ) -> ExecResult:
        """Run a command in a container through ``pods/exec`` (the websocket channel protocol)."""
        from kubernetes.stream import stream

        deadline = timeout_s if timeout_s is not None else self.request_timeout_s
        argv = list(command)
        what = f"exec {' '.join(argv)} in {namespace}/{pod}" + (
            f" (container {container})" if container else ""
        )
        try:
            session = stream(
                self._exec_api().connect_get_namespaced_pod_exec,
                pod,
                namespace,
                command=argv,
                container=container,
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
                _request_timeout=deadline,
            )
        except ApiException as exc:
            raise _handshake_error(exc, what) from None
        try:
            session.run_forever(timeout=deadline)
            if session.is_open():
                raise ApiTimeout(f"{what}: no end of output within {deadline:g}s")
            stdout = str(session.read_stdout() or "")
            stderr = str(session.read_stderr() or "")
            returncode, message = _exit_status(str(session.read_channel(3) or ""))
        finally:
            session.close()
            websocket = getattr(session, "sock", None)
            if websocket is not None:  # a session the server closed keeps its socket open
                websocket.shutdown()
        return ExecResult(stdout, stderr, returncode, message)

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

    def kill_pod(
        self,
        namespace: str,
        name: str,
        mode: str | None = None,
        endpoint_delay_s: float | None = None,
    ) -> JsonObject:
        """SIGKILL the pod's process, or with ``mode`` kill it as app-crash, pod-deleted or
        node-lost (``chaoskit.controlplane.kills``)."""
        self._embedded_only("killing a pod process")
        query = {"mode": mode} if mode else {}
        if endpoint_delay_s is not None:
            query["endpointDelaySeconds"] = f"{endpoint_delay_s:g}"
        path = f"/chaoskit/v1/namespaces/{namespace}/pods/{name}/kill"
        return dict(self.call("POST", path, query=query or None))

    def restart_pod(self, namespace: str, name: str) -> JsonObject:
        self._embedded_only("restarting a pod process")
        return dict(self.call("POST", f"/chaoskit/v1/namespaces/{namespace}/pods/{name}/restart"))
