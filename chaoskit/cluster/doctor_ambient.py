"""The doctor's data-plane checks: the cluster runs the data plane the experiments expect.

Sidecar mode is checked by ``doctor.py`` (injection label, an ``istio-proxy`` in every pod).
Ambient mode (``cluster doctor --ambient``, after ``cluster up --ambient``) needs, from
Istio's ambient guide and source (tag 1.30.3):
- the namespace labelled ``istio.io/dataplane-mode=ambient`` and not for injection (a
  namespace with ``istio-injection=enabled`` is a sidecar namespace:
  ``NamespaceInAmbientMode``, pkg/config/analysis/analyzers/util/in_mesh.go);
- ``istio.io/use-waypoint`` naming its waypoint (``istioctl waypoint apply
  --enroll-namespace``), and that waypoint's pods ready: the gateway controller labels them
  ``gateway.networking.k8s.io/gateway-name`` (manifests/charts/istio-control/
  istio-discovery/files/waypoint.yaml) and runs Envoy in their ``istio-proxy`` container;
- the ztunnel DaemonSet in istio-system with a ready pod on every node
  (manifests/charts/ztunnel/templates/daemonset.yaml);
- the app pods running without a sidecar (the CNI redirects their traffic to ztunnel).
A mismatch in either direction names both modes and both ways out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from chaoskit.cluster import pins
from chaoskit.errors import BackendError
from chaoskit.kube.client import KubeClient
from chaoskit.topology.ambient import GATEWAY_NAME_LABEL, USE_WAYPOINT_LABEL, dataplane_of
from chaoskit.topology.podshape import PROXY_CONTAINER, all_ready, sidecar_ready, sidecar_shape

JsonObject = dict[str, Any]
Add = Callable[[str, bool, str, str], bool]


def mode_mismatch(namespace: str, labels: dict[str, str], expected: str) -> str | None:
    """Why ``namespace`` does not run the ``expected`` plane, with both ways out; or None."""
    running = dataplane_of(labels)
    if running == expected:
        return None
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if "istio" in k) or "none"
    if expected == "sidecar":
        way = (
            "run the doctor and the experiments for ambient (`cluster doctor --ambient`, "
            "`pytest --mesh kind -k ambient`), or recreate the cluster without --ambient"
        )
    else:
        way = (
            "make it ambient (`chaoskit cluster down && chaoskit cluster up --ambient`), or "
            "run the doctor without --ambient"
        )
    if running == "ambient-l4" and expected == "ambient":
        way = (
            f"deploy its waypoint: istioctl waypoint apply -n {namespace} --enroll-namespace --wait"
        )
    return (
        f"namespace {namespace} runs the {running} data plane (labels: {shown}), the "
        f"experiments expect {expected}; {way}"
    )


class AmbientChecks:
    """The ambient rows of one doctor run; ``probe`` is a ready waypoint to read stats and
    the access log from (a waypoint's Envoy carries the L7 policy in ambient mode)."""

    def __init__(self, client: KubeClient, add: Add, expected: str) -> None:
        self.client = client
        self.add = add
        self.expected = expected
        self.probe: tuple[str, str] | None = None

    def namespace(self, namespace: str, deployments: Iterable[str]) -> None:
        check = f"data plane {namespace}"
        try:
            found = self.client.namespace(namespace)
        except BackendError as exc:
            self.add(check, False, f"cannot read namespace {namespace}: {exc}", "RBAC: get ns")
            return
        if found is None:
            self.add(check, False, f"namespace {namespace} does not exist", "chaoskit cluster up")
            return
        labels = {
            str(k): str(v) for k, v in ((found.get("metadata") or {}).get("labels") or {}).items()
        }
        problem = mode_mismatch(namespace, labels, self.expected)
        ok = self.add(check, problem is None, problem or f"{self.expected}, as expected", "")
        if not ok:
            return
        self._pods(namespace, deployments)
        if self.expected == "ambient":
            self._waypoint(namespace, labels[USE_WAYPOINT_LABEL])

    def _pods(self, namespace: str, deployments: Iterable[str]) -> None:
        check = f"ambient pods {namespace}"
        try:
            pods = self.client.pods(namespace)
        except BackendError as exc:
            self.add(check, False, f"cannot list pods in {namespace}: {exc}", "RBAC: list pods")
            return
        wanted = list(deployments)
        apps = [p for p in pods if GATEWAY_NAME_LABEL not in ((p["metadata"].get("labels")) or {})]
        with_sidecar = [str(p["metadata"]["name"]) for p in apps if sidecar_shape(p)]
        unready = [str(p["metadata"]["name"]) for p in apps if not all_ready(p)]
        problems = []
        if with_sidecar:
            problems.append(f"{PROXY_CONTAINER} injected in {', '.join(with_sidecar)}")
        if unready:
            problems.append(f"not ready: {', '.join(unready)}")
        fix = (
            f"remove istio-injection from namespace {namespace} and `kubectl rollout restart "
            f"deployment -n {namespace}`"
            if with_sidecar
            else f"`kubectl describe pod -n {namespace} {unready[0]}`"
            if unready
            else ""
        )
        found = "; ".join(problems) or f"{len(apps)} pod(s) of {len(wanted)} workloads, no sidecar"
        self.add(check, not problems, found, fix)

    def _waypoint(self, namespace: str, name: str) -> None:
        check = f"waypoint {namespace}"
        selector = f"{GATEWAY_NAME_LABEL}={name}"
        try:
            pods = self.client.pods(namespace, selector)
        except BackendError as exc:
            self.add(check, False, f"cannot list pods {selector}: {exc}", "RBAC: list pods")
            return
        ready = [str(p["metadata"]["name"]) for p in pods if sidecar_ready(p)]
        if ready and self.probe is None:
            self.probe = (namespace, ready[0])
        self.add(
            check,
            bool(ready),
            f"{len(ready)} of {len(pods)} pod(s) of waypoint {name} ready",
            f"istioctl waypoint apply -n {namespace} --enroll-namespace --wait; `kubectl get "
            f"gateway -n {namespace} {name} -o yaml` shows why it is not Programmed",
        )

    def ztunnel(self) -> None:
        check = "ztunnel"
        path = (
            f"/apis/apps/v1/namespaces/{pins.ISTIO_NAMESPACE}/daemonsets/{pins.ZTUNNEL_DAEMONSET}"
        )
        fix = "install Istio's ambient profile (`chaoskit cluster up --ambient`)"
        try:
            daemonset = self.client.call("GET", path)
        except BackendError as exc:
            self.add(check, False, f"no DaemonSet {pins.ISTIO_NAMESPACE}/ztunnel: {exc}", fix)
            return
        status = (daemonset or {}).get("status") or {}
        wanted = int(status.get("desiredNumberScheduled") or 0)
        ready = int(status.get("numberReady") or 0)
        self.add(
            check,
            wanted > 0 and ready == wanted,
            f"DaemonSet {pins.ISTIO_NAMESPACE}/ztunnel: {ready} of {wanted} node(s) ready",
            "`kubectl describe daemonset -n istio-system ztunnel` and the istio-cni-node logs",
        )
