"""Kill modes on a real cluster: what can be done honestly through the Kubernetes API.

``pod-deleted`` is a DELETE of the pod (grace period 0), as before. ``app-crash`` ends the
app container's PID 1 with SIGTERM through ``pods/exec`` (no ephemeral debug container):
the kubelet restarts it (``restartPolicy: Always``) and, meanwhile, the pod is NotReady
and its sidecar answers 503 UF. A PID 1 without a SIGTERM handler ignores the signal
(the kernel does not deliver default-action signals to a PID namespace's init from inside
it); the crash is then refused, not pretended. ``node-lost`` would need the node itself
(``docker pause`` of a kind node, or cutting its network): outside what a session may
touch, so it is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chaoskit.controlplane.kills import APP_CRASH, NODE_LOST, check_mode
from chaoskit.errors import BackendError, ConfigError
from chaoskit.kube.client import KubeClient
from chaoskit.topology.podshape import PROXY_CONTAINER

APP_CRASH_COMMAND = ("/bin/sh", "-c", "kill -s TERM 1")


def checked_mode(mode: str, backend: str, where: str) -> str:
    """``mode`` when this backend can do it; a ConfigError naming mode and backend if not."""
    try:
        check_mode(mode)
    except ValueError as exc:
        raise ConfigError(f"chaos.kill of {where}: {exc}") from None
    if mode == NODE_LOST:
        raise ConfigError(
            f"chaos.kill(mode='{NODE_LOST}') of {where}: the {backend} backend cannot lose a "
            "node honestly (that means pausing a node container or cutting its network, "
            "outside the namespaces a session may touch); use mode='pod-deleted' or "
            f"'{APP_CRASH}' here, or run the experiment on the embedded mesh (--mesh local)"
        )
    return mode


def app_container(pod: dict[str, Any]) -> str:
    """The pod's first container that is not the sidecar."""
    for container in pod["spec"].get("containers") or []:
        if container["name"] != PROXY_CONTAINER:
            return str(container["name"])
    meta = pod["metadata"]
    raise ConfigError(f"pod {meta['namespace']}/{meta['name']} has no app container to crash")


def restarts(pod: dict[str, Any], container: str) -> int:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status["name"] == container:
            return int(status.get("restartCount", 0))
    return 0


def crash_app(
    client: KubeClient,
    namespace: str,
    name: str,
    *,
    timeout_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    """SIGTERM the app container's PID 1 and wait until the kubelet reports the exit."""
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    pod = client.call("GET", path)
    container = app_container(pod)
    before = restarts(pod, container)
    said = ""
    try:
        result = client.exec(namespace, name, APP_CRASH_COMMAND, container=container)
        said = (result.stderr or result.message or "").strip()
    except BackendError as exc:  # the exec session may die with the container
        said = str(exc)
    deadline = clock() + timeout_s
    while True:
        pod = client.call("GET", path)
        if restarts(pod, container) > before:
            return
        if clock() >= deadline:
            raise BackendError(
                f"app-crash of pod {namespace}/{name}: container {container}'s PID 1 did not "
                f"exit within {timeout_s:g}s of `{' '.join(APP_CRASH_COMMAND)}`"
                + (f" ({said})" if said else "")
                + "; a PID 1 with no SIGTERM handler ignores it. Use mode='pod-deleted'"
            )
        sleep(1.0)
