"""How a replica dies, and how long the rest of a Kubernetes cluster takes to notice.

Three failures look different to callers, so ``chaos.kill`` names which one it means:

``app-crash``
    The app container exits; the pod and its sidecar live on. Until the kubelet notices,
    the sidecar's connect to the app is refused and Envoy answers 503 UF itself. The
    kubelet's PLEG relists containers every second (kubernetes/kubernetes
    ``pkg/kubelet/kubelet.go``, ``genericPlegRelistPeriod``); a container that is not
    running is not ready (``pkg/kubelet/prober/prober_manager.go``, ``UpdatePodStatus``,
    whether or not the pod declares a readiness probe; Bookinfo's declare none), so the
    pod turns NotReady and its endpoint leaves EDS. The kubelet restarts the container
    after a back-off (``backOffPeriod``, 10 s, doubling to 5 min).
``pod-deleted``
    The pod is deleted with grace period 0: both containers are gone at once and the
    pod's address refuses connections until the EndpointSlice controller (no batching by
    default: ``--endpointslice-updates-batch-period`` has no default in
    ``pkg/controller/endpointslice/config/v1alpha1/defaults.go`` at commit 7fc9c57d, so 0)
    and istiod (EDS pushes debounced by ``PILOT_DEBOUNCE_AFTER``, 100 ms, istio/istio
    ``pilot/pkg/features/tuning.go`` at 1.28.9, commit 9ac8a695) drop the endpoint. The
    ReplicaSet starts a replacement with a new name and address, an endpoint once Ready.

``chaos.kill(endpoint_delay=...)`` (the API's ``endpointDelaySeconds``) replaces the
default delays below, for a cluster whose controllers are slower.
``node-lost``
    The node stops answering: SYNs to its pods get no reply, so connects time out at the
    cluster's ``connectTimeout``, and established connections hang. The endpoint stays
    until the node controller marks the node's pods NotReady (after
    ``--node-monitor-grace-period``), longer than an experiment's fault window.
"""

from __future__ import annotations

APP_CRASH = "app-crash"
POD_DELETED = "pod-deleted"
NODE_LOST = "node-lost"
KILL_MODES = (APP_CRASH, POD_DELETED, NODE_LOST)

# kubelet's PLEG relist period (1 s) then the endpoint update and istiod's EDS debounce.
APP_CRASH_ENDPOINT_DELAY_S = 1.1
# EndpointSlice controller batch period (0) then istiod's EDS debounce (100 ms).
POD_DELETED_ENDPOINT_DELAY_S = 0.1


def check_mode(mode: str) -> str:
    """``mode`` if it names a kill mode; otherwise a ValueError listing them."""
    if mode not in KILL_MODES:
        raise ValueError(f"unknown kill mode {mode!r}; use one of {', '.join(KILL_MODES)}")
    return mode


def default_endpoint_delay(mode: str) -> float | None:
    """Seconds until the killed pod's endpoint leaves EDS; None while the fault lasts."""
    return {APP_CRASH: APP_CRASH_ENDPOINT_DELAY_S, POD_DELETED: POD_DELETED_ENDPOINT_DELAY_S}.get(
        mode
    )
