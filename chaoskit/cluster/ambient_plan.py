"""The steps ``chaoskit cluster up --ambient`` adds or changes: Istio's ambient profile, the
app namespaces enrolled in ambient, and a waypoint in each.

What Istio's ambient guide does (istio.io/latest/docs/ambient/getting-started/), with the
versions pinned: the Gateway API CRDs first (a waypoint is a Gateway of class
``istio-waypoint``), ``istioctl install --set profile=ambient`` (istiod, the CNI node agent and
ztunnel; the profile leaves the ingress gateway out, chaoskit's operator file puts it back:
files override the profile and ``--set`` flags override files, operator/pkg/render/
manifest.go @ 1.30.3), ``kubectl label namespace NS istio.io/dataplane-mode=ambient``, and
``istioctl waypoint apply -n NS --enroll-namespace --wait`` (istioctl/pkg/waypoint/
waypoint.go @ 1.30.3: a Gateway named ``waypoint`` and the label ``istio.io/use-waypoint``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from chaoskit.cluster import pins

if TYPE_CHECKING:
    from chaoskit.cluster.plan import Step

PROFILE_FLAGS = ("--set", "profile=ambient")
PROFILE_NOTE = "(ambient profile: istiod, CNI node agent, ztunnel; NodePort ingress)"
# The images the ambient profile adds (manifests/charts/ztunnel and istio-cni values.yaml,
# ``image:`` @ 1.30.3), from the same hub as istiod.
IMAGES = ("ztunnel", "install-cni")
AMBIENT_LABEL = "istio.io/dataplane-mode=ambient"


def gateway_api_steps() -> list[Step]:
    from chaoskit.cluster.plan import Step, _kubectl

    return [
        Step(
            f"install the Gateway API CRDs {pins.gateway_api_version()} (waypoints are Gateways)",
            _kubectl("apply", "--server-side", "-f", pins.gateway_api_crds()),
            timeout_s=120,
            retries=2,
            hint="the CRDs come from github.com (kubernetes-sigs/gateway-api releases); "
            "`kubectl --context kind-chaoskit get crd gateways.gateway.networking.k8s.io`",
        )
    ]


def ztunnel_steps() -> list[Step]:
    from chaoskit.cluster.plan import ROLLOUT_TIMEOUT, Step, _kubectl

    return [
        Step(
            "wait for ztunnel (a DaemonSet: one per node)",
            _kubectl(
                "-n",
                pins.ISTIO_NAMESPACE,
                "rollout",
                "status",
                f"daemonset/{pins.ZTUNNEL_DAEMONSET}",
                f"--timeout={ROLLOUT_TIMEOUT}",
            ),
            timeout_s=330,
            hint="`kubectl --context kind-chaoskit -n istio-system describe daemonset ztunnel` "
            "and the istio-cni-node pods' logs",
        )
    ]


def enroll_steps(namespaces: Iterable[str]) -> list[Step]:
    from chaoskit.cluster.plan import Step, _kubectl

    return [
        Step(
            f"enroll {namespace} in ambient (before any of its pods exists)",
            _kubectl("label", "namespace", namespace, AMBIENT_LABEL, "--overwrite"),
            timeout_s=60,
        )
        for namespace in namespaces
    ]


def waypoint_steps(namespaces: Iterable[str]) -> list[Step]:
    from chaoskit.cluster.plan import Step

    return [
        Step(
            f"deploy a waypoint for {namespace} and enroll the namespace to use it",
            (
                "istioctl",
                "waypoint",
                "apply",
                "--context",
                pins.CONTEXT,
                "-n",
                namespace,
                "--enroll-namespace",
                "--wait",
            ),
            timeout_s=330,
            retries=2,
            hint=f"`kubectl --context kind-chaoskit -n {namespace} get gateway "
            f"{pins.WAYPOINT_NAME} -o yaml` (its Programmed condition) and `kubectl "
            f"--context kind-chaoskit -n {namespace} describe deployment {pins.WAYPOINT_NAME}`",
        )
        for namespace in namespaces
    ]
