"""Pods and proxy output as real Istio writes them, from ``tests/data/upstream``.

The fake API server builds its pods from the sidecar injector's own golden files (Istio
1.28.10 ``pkg/kube/inject/testdata/inject``): ``native-sidecar.yaml.injected`` has
``istio-proxy`` among ``initContainers`` with ``restartPolicy: Always`` (what Istio 1.28
injects on a kubelet >= 1.33), ``native-sidecar-opt-out.yaml.injected`` the classic shape.
The injector's testdata has no ``status``; :func:`kubelet_status` adds the one a kubelet
reports (a native sidecar's state is in ``initContainerStatuses``).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import yaml

UPSTREAM = Path(__file__).resolve().parents[1] / "data" / "upstream"
ISTIO = UPSTREAM / "istio-1.28.10"
SHAPES = ("native", "classic")
_INJECTED = {
    "native": "inject/native-sidecar.yaml.injected",
    "classic": "inject/native-sidecar-opt-out.yaml.injected",
}
STARTED_AT = "2026-01-01T00:00:00Z"

JsonObject = dict[str, Any]


@functools.cache
def _injected(shape: str) -> JsonObject:
    (pod, *_rest) = [d for d in yaml.safe_load_all((ISTIO / _INJECTED[shape]).read_text()) if d]
    assert pod["kind"] == "Pod"
    return dict(pod)


def injected_pod(shape: str, namespace: str, name: str, labels: dict[str, str]) -> JsonObject:
    """The injector's pod of that shape, renamed, with the workload's labels added to the
    ones the injector wrote (``security.istio.io/tlsMode``, canonical name/revision)."""
    pod = copy.deepcopy(_injected(shape))
    meta = pod["metadata"]
    meta.update(name=name, namespace=namespace)
    meta["labels"] = {**(meta.get("labels") or {}), **labels}
    return pod


def kubelet_status(pod: JsonObject, ip: str, *, sidecar_ready: bool = True) -> JsonObject:
    """What a kubelet reports for a started pod: app containers in ``containerStatuses``;
    init containers in ``initContainerStatuses``, the finished ones terminated (exit 0) and
    the restartable ones (native sidecars) running."""
    running = {"running": {"startedAt": STARTED_AT}}

    def entry(container: JsonObject, *, ready: bool, state: JsonObject) -> JsonObject:
        return {
            "name": container["name"],
            "image": container.get("image", ""),
            "ready": ready,
            "started": "running" in state,
            "restartCount": 0,
            "state": state,
        }

    def ready(container: JsonObject) -> bool:
        return sidecar_ready or container["name"] != "istio-proxy"

    spec = pod["spec"]
    init = []
    for c in spec.get("initContainers") or []:
        if c.get("restartPolicy") == "Always":
            init.append(entry(c, ready=ready(c), state=running))
        else:
            done = {"terminated": {"exitCode": 0, "reason": "Completed"}}
            init.append(entry(c, ready=True, state=done))
    return {
        "phase": "Running",
        "podIP": ip,
        "initContainerStatuses": init,
        "containerStatuses": [
            entry(c, ready=ready(c), state=running) for c in spec.get("containers") or []
        ],
    }


def config_dump(name: str) -> JsonObject:
    """One of istioctl's ``config_dump`` testdata files (see the README)."""
    return dict(json.loads((ISTIO / "istioctl" / name).read_text()))


ISTIO_AMBIENT = UPSTREAM / "istio-1.30.3" / "ambient"


@functools.cache
def _waypoint_deployment() -> JsonObject:
    path = ISTIO_AMBIENT / "waypoint-deployment.yaml"
    (deployment,) = [
        d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "Deployment"
    ]
    return dict(deployment)


def waypoint_pod(gateway: str) -> JsonObject:
    """A pod of the Deployment Istio's gateway controller renders for a waypoint Gateway
    (``gatewaycommon/testdata/waypoint.yaml``, whose Gateway is named ``namespace``), for a
    Gateway named ``gateway``: the template's labels and its one container, istio-proxy."""
    template = copy.deepcopy(_waypoint_deployment()["spec"]["template"])
    labels = dict(template["metadata"]["labels"])
    labels["gateway.networking.k8s.io/gateway-name"] = gateway
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "labels": labels,
            "annotations": dict(template["metadata"].get("annotations") or {}),
        },
        "spec": template["spec"],
    }


def ambient_app_pod(labels: dict[str, str]) -> JsonObject:
    """An app pod in an ambient namespace: the workload's own containers, no injection, and
    the annotation Istio's CNI agent sets once it redirects the pod's traffic
    (``ambient.istio.io/redirection: enabled``, cni/pkg/util/podutil.go @ 1.30.3)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "labels": dict(labels),
            "annotations": {"ambient.istio.io/redirection": "enabled"},
        },
        "spec": {"containers": [{"name": labels.get("app", "app"), "image": "app"}]},
    }


def ztunnel_daemonset(*, desired: int = 1, ready: int = 1) -> JsonObject:
    """istio-system/ztunnel as istioctl renders it (``manifest-generate/output/
    ztunnel.golden.yaml``) with the status the DaemonSet controller reports."""
    path = ISTIO_AMBIENT / "ztunnel.golden.yaml"
    (daemonset,) = [
        d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "DaemonSet"
    ]
    daemonset = copy.deepcopy(daemonset)
    daemonset["status"] = {
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": desired,
        "numberReady": ready,
        "numberAvailable": ready,
    }
    return dict(daemonset)
