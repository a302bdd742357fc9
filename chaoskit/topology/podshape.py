"""Where a pod's Istio sidecar is, in either of the two shapes the injector writes: one
helper for every reader of pod objects (the embedded API server, the cluster backend, the
doctor, the CLI), so they all read both shapes.

- **Classic**: ``istio-proxy`` is one of ``spec.containers``; its state is in
  ``status.containerStatuses``.
- **Native** (Kubernetes sidecar containers): ``istio-proxy`` is one of
  ``spec.initContainers`` with ``restartPolicy: Always``; its state is in
  ``status.initContainerStatuses``. Istio 1.28 injects this shape on its own when every
  node's kubelet is 1.33 or newer (``ENABLE_NATIVE_SIDECARS=auto``; istio/istio
  ``pkg/kube/inject/webhook.go``, ``DetectNativeSidecar``, tag 1.28.10), so a kind
  v1.34 node gets it. Both shapes come from the injector's own testdata
  (``tests/data/upstream/README.md``).

A restartable init container keeps running beside the app, so every count here treats it
as one of the pod's running containers, as ``kubectl get pods`` does in its READY column
(kubernetes/kubernetes ``pkg/printers/internalversion/printers.go``, ``printPod``). Exec
and logs reach it by name like any other container (the API server looks the name up in
init containers too).
"""

from __future__ import annotations

from typing import Any, Literal

PROXY_CONTAINER = "istio-proxy"
SidecarShape = Literal["native", "classic"]

JsonObject = dict[str, Any]


def _spec(pod: JsonObject) -> JsonObject:
    return dict(pod.get("spec") or {})


def restartable_init_containers(pod: JsonObject) -> list[JsonObject]:
    """The pod's native sidecars: init containers with ``restartPolicy: Always``."""
    return [c for c in _spec(pod).get("initContainers") or [] if c.get("restartPolicy") == "Always"]


def long_running_containers(pod: JsonObject) -> list[JsonObject]:
    """Every container that runs for the pod's life: ``containers`` and native sidecars."""
    return list(_spec(pod).get("containers") or []) + restartable_init_containers(pod)


def sidecar_shape(pod: JsonObject) -> SidecarShape | None:
    """``native``, ``classic``, or ``None`` when the pod has no ``istio-proxy``."""
    if any(c.get("name") == PROXY_CONTAINER for c in restartable_init_containers(pod)):
        return "native"
    if any(c.get("name") == PROXY_CONTAINER for c in _spec(pod).get("containers") or []):
        return "classic"
    return None


def has_sidecar(pod: JsonObject) -> bool:
    return sidecar_shape(pod) is not None


def long_running_statuses(pod: JsonObject) -> list[JsonObject]:
    """The statuses of :func:`long_running_containers`: ``containerStatuses`` plus the
    native sidecars' entries in ``initContainerStatuses`` (not the finished init steps)."""
    status = dict(pod.get("status") or {})
    native = {c.get("name") for c in restartable_init_containers(pod)}
    return list(status.get("containerStatuses") or []) + [
        s for s in status.get("initContainerStatuses") or [] if s.get("name") in native
    ]


def ready_containers(pod: JsonObject) -> tuple[int, int]:
    """(ready, total) as ``kubectl get pods`` counts them: native sidecars included."""
    statuses = long_running_statuses(pod)
    total = max(len(long_running_containers(pod)), len(statuses))
    return sum(1 for s in statuses if s.get("ready")), total


def sidecar_ready(pod: JsonObject) -> bool:
    """The ``istio-proxy`` container reports ready, in whichever status list it has."""
    return any(
        s.get("name") == PROXY_CONTAINER and s.get("ready") for s in long_running_statuses(pod)
    )


def all_ready(pod: JsonObject) -> bool:
    """Every long-running container reports ready; a pod with no statuses yet is not."""
    statuses = long_running_statuses(pod)
    return bool(statuses) and all(s.get("ready") for s in statuses)
