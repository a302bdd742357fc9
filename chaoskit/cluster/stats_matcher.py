"""Would a sidecar keep a stat? Envoy's ``stats_config.stats_matcher``, read from the
bootstrap in a ``/config_dump``.

Some of the stats the experiments read do not exist until first used: Envoy creates the
response-code-class counters (``upstream_rq_5xx``) when the first such response is
counted (envoy source/common/http/codes.cc, ``CodeStatsImpl::chargeBasicResponseStat``),
and the outlier-detection stats only for clusters with outlier detection
(source/common/upstream/outlier_detection_impl.cc, ``DetectorImpl``). On a fresh cluster
their absence from ``/stats`` says nothing; what matters is whether the matcher Istio
writes into the bootstrap (``meshConfig.defaultConfig.proxyStatsMatcher``; istio/istio
tools/packaging/common/envoy_bootstrap.json, tag 1.28.10) keeps them once they exist.
"""

from __future__ import annotations

import json
from typing import Any

from chaoskit.mesh.stats_matcher import keeps

__all__ = ["BOOTSTRAP_DUMP", "bootstrap_stats_matcher", "keeps"]

BOOTSTRAP_DUMP = "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"


def bootstrap_stats_matcher(config_dump: str) -> dict[str, Any] | None:
    """The bootstrap's ``stats_matcher`` (``{}`` when it sets none: Envoy keeps every
    stat), or ``None`` when the dump carries no bootstrap."""
    dump = json.loads(config_dump)
    for config in dump.get("configs") or []:
        if config.get("@type") == BOOTSTRAP_DUMP:
            stats_config = (config.get("bootstrap") or {}).get("stats_config") or {}
            return dict(stats_config.get("stats_matcher") or {})
    return None
