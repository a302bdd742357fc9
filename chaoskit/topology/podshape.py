"""Where a pod object reports its containers: the app's, and the sidecar either way.

Istio 1.28 on Kubernetes 1.29+ injects ``istio-proxy`` as a native sidecar: an init
container with ``restartPolicy: Always`` whose status is in ``initContainerStatuses``
(Istio ``pkg/kube/inject``, ``ENABLE_NATIVE_SIDECARS``; Kubernetes KEP-753). Classic
injection lists it among ``containers``. Readers of pod readiness use this one helper, so
they read both shapes.
"""

from __future__ import annotations

from typing import Any

SIDECAR_CONTAINER = "istio-proxy"


def container_statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Statuses of the containers that run for the pod's life: native sidecars (restartable
    init containers) first, then the regular containers; one-shot init containers are not
    included, as kubectl's READY column leaves them out."""
    status = pod.get("status") or {}
    restartable = {
        c.get("name")
        for c in (pod.get("spec") or {}).get("initContainers") or []
        if c.get("restartPolicy") == "Always"
    }
    sidecars = [
        s for s in status.get("initContainerStatuses") or [] if s.get("name") in restartable
    ]
    return sidecars + list(status.get("containerStatuses") or [])


def all_ready(pod: dict[str, Any]) -> bool:
    statuses = container_statuses(pod)
    return bool(statuses) and all(s.get("ready") for s in statuses)
