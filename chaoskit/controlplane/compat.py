"""Behaviour that changed between Istio releases, derived from the emulated version.

The embedded mesh emulates one release (mesh spec ``istioVersion`` or ``--istio-version``,
default ``DEFAULT_ISTIO``); ``chaoskit cluster up`` installs the same one. Every flag below
cites where the change is in istio/istio (path @ tag); docs/decisions.md lists them.
"""

from __future__ import annotations

from chaoskit.mesh.config import Compat
from chaoskit.mesh.releases import DEFAULT_ISTIO, IstioRelease, parse_release

# Kept for callers that name the default; the release matrix lives in chaoskit.mesh.releases.
PINNED_ISTIO = DEFAULT_ISTIO

# retryBudget's default percent was 0.2 (0.2 %, not 20 %) in applyRetryBudget
# (pilot/pkg/networking/core/cluster_traffic_policy.go @ 1.27.0 .. 1.28.5, 1.29.0, 1.29.1);
# fixed by istio/istio#59505 in 1.30.0 and backported to 1.28.6 and 1.29.2.
RETRY_BUDGET_PERCENT_FIXED = ((1, 30), {(1, 28): 6, (1, 29): 2})
# ShallowCopyTrafficPolicy/mergeTrafficPolicy (pilot/pkg/networking/util/util.go) did not copy
# RetryBudget: a subset with its own trafficPolicy lost the rule's budget and its own.
# Fixed by istio/istio#59668 in 1.30.0, backported to 1.29.2; never in 1.28 (1.28.10 lacks it).
RETRY_BUDGET_SUBSET_FIXED = ((1, 30), {(1, 29): 2})


def parse_version(text: str) -> tuple[int, int]:
    """The minor of an Istio version (``1.30`` or ``1.30.3``), or a ConfigError."""
    return parse_release(text).minor_version


def compat_for(istio_version: str | None = None) -> Compat:
    release = parse_release(istio_version or DEFAULT_ISTIO)
    return compat_of(release)


def compat_of(release: IstioRelease) -> Compat:
    version = release.minor_version
    percent_fixed, percent_backports = RETRY_BUDGET_PERCENT_FIXED
    subset_fixed, subset_backports = RETRY_BUDGET_SUBSET_FIXED
    return Compat(
        istio_version=str(release),
        # EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY defaults to true from 1.24.
        default_retry_on_503=version < (1, 24),
        # DISABLE_SHADOW_HOST_SUFFIX defaults to true from 1.28.
        mirror_shadow_suffix=version < (1, 28),
        # Istio 1.20 ships Envoy 1.28, which dropped "always eject one host".
        always_eject_one_host=version < (1, 20),
        # ConvertPolicy reads HTTPRetry.backoff and retryIgnorePreviousHosts from 1.26
        # (pilot/pkg/networking/core/route/retry/retry.go @ 1.26.0; absent @ 1.25.0).
        retry_backoff_and_previous_hosts=version >= (1, 26),
        # applyRetryBudget first appears @ 1.27.0 (absent @ 1.26.8).
        retry_budget=version >= (1, 27),
        retry_budget_default_percent=(
            20.0 if release.at_least(percent_fixed, percent_backports) else 0.2
        ),
        retry_budget_kept_with_subset_policy=release.at_least(subset_fixed, subset_backports),
        # TrackRemaining: true @ 1.28.10; !DISABLE_TRACK_REMAINING_CB_METRICS (default true) @
        # 1.29.0 (pilot/pkg/networking/core/cluster_traffic_policy.go, features/pilot.go).
        track_remaining_cb_metrics=version < (1, 29),
    )
