"""CK0301: an EnvoyFilter patch the embedded mesh does not run.

istioctl has no such check: on a cluster every patch reaches Envoy. The embedded sidecar is
not Envoy and runs one shape (``chaoskit.istio.envoy_filter_fault``), so a game day that
relies on any other patch would pass or fail on the embedded mesh for the wrong reason.
Each such patch is named with its index, applyTo, context and operation.
"""

from __future__ import annotations

from chaoskit.analysis.context import Context
from chaoskit.istio.envoy_filter_fault import WHAT_TO_DO, emulated_patch
from chaoskit.istio.resources import EnvoyFilter


def unemulated_envoy_filter_patches(ctx: Context) -> None:
    for loaded, envoy_filter in ctx.of_kind(EnvoyFilter):
        spec = envoy_filter.spec
        if spec.target_refs:
            ctx.report(
                "CK0301",
                loaded,
                "spec.targetRefs",
                "every patch",
                "targetRefs (waypoints and gateways) are not emulated",
                fix=WHAT_TO_DO,
            )
            continue
        for index, patch in enumerate(spec.config_patches or ()):
            verdict = emulated_patch(index, patch)
            if verdict.http_filter is None:
                ctx.report(
                    "CK0301",
                    loaded,
                    f"spec.configPatches[{index}]",
                    verdict.describe(),
                    verdict.reason,
                    fix=WHAT_TO_DO,
                )
