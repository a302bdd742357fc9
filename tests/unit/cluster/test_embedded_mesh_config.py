"""The embedded mesh is configured as `cluster up` configures Istio, and reports the same.

Its mesh config must equal the operator's (``assets/istio-operator.yaml``), its istiod must
report the pinned release, and the bootstrap stats matcher pilot-agent would write from that
mesh config must keep every stat the embedded sidecars make (the embedded /stats does not
filter by it, so a stat it dropped would be a stat a real sidecar lacks).
"""

from __future__ import annotations

import json

import yaml

from chaoskit.cluster import pins
from chaoskit.cluster.stats_matcher import keeps
from chaoskit.controlplane.compat import compat_for
from chaoskit.controlplane.meshconfig import DEFAULT_MESH_CONFIG, bootstrap_stats_matcher
from chaoskit.mesh.outlier import OUTLIER_COUNTERS
from chaoskit.mesh.upstream import CLUSTER_COUNTERS

CLUSTERS = ("outbound|9080||ratings.bookinfo.svc.cluster.local", "inbound|9080||")
GAUGES = (
    "membership_total",
    "membership_healthy",
    "upstream_rq_active",
    "upstream_cx_active",
    "upstream_rq_pending_active",
    "circuit_breakers.default.rq_open",
    "circuit_breakers.default.remaining_retries",
    "outlier_detection.ejections_active",
)
# The embedded mesh's other stat shapes (chaoskit/mesh/proxy.py, router.py).
HTTP_STATS = (
    "http.outbound_0.0.0.0_8080.downstream_rq_total",
    "http.outbound_0.0.0.0_9080.downstream_rq_5xx",
    "http.outbound_0.0.0.0_9080.no_route",
    "http.outbound_0.0.0.0_9080.no_cluster",
    "http.outbound_0.0.0.0_9080.fault.aborts_injected",
    "http.outbound_0.0.0.0_9080.fault.delays_injected",
)


def test_the_embedded_mesh_config_is_the_one_cluster_up_installs() -> None:
    operator = yaml.safe_load(pins.asset("istio-operator.yaml").read_text())
    installed = operator["spec"]["meshConfig"]
    ours = dict(DEFAULT_MESH_CONFIG)
    assert json.loads(ours.pop("accessLogFormat")) == json.loads(installed["accessLogFormat"])
    assert ours == {k: v for k, v in installed.items() if k != "accessLogFormat"}


def test_istiod_reports_the_release_cluster_up_installs_by_default() -> None:
    assert compat_for(None).istio_version == pins.DEFAULT_ISTIO_VERSION


def test_the_bootstrap_matcher_keeps_every_stat_the_embedded_mesh_makes() -> None:
    matcher = bootstrap_stats_matcher(DEFAULT_MESH_CONFIG)
    names = [
        f"cluster.{cluster}.{stat}"
        for cluster in CLUSTERS
        for stat in (
            *CLUSTER_COUNTERS,
            *OUTLIER_COUNTERS,
            *GAUGES,
            "upstream_rq_503",
            "upstream_rq_5xx",
        )
    ]
    dropped = [n for n in (*names, *HTTP_STATS) if not keeps(matcher, n)]
    assert dropped == []


def test_the_bootstrap_matcher_is_istios_inclusion_list() -> None:
    """istio/istio 1.28.10 tools/packaging/common/envoy_bootstrap.json: reporter= first, the
    proxy config's inclusions with the required ones, component and istio last."""
    patterns = bootstrap_stats_matcher(DEFAULT_MESH_CONFIG)["inclusion_list"]["patterns"]
    assert patterns[0] == {"prefix": "reporter="}
    assert patterns[-2:] == [{"prefix": "component"}, {"prefix": "istio"}]
    prefixes = [p["prefix"] for p in patterns if "prefix" in p]
    assert prefixes.index("cluster.outbound") < prefixes.index("cluster_manager")
    assert {"safe_regex": {"regex": r"vhost\..*\.route\..*"}} in patterns
    assert {"suffix": "rbac.allowed"} in patterns
    # without a proxyStatsMatcher only Istio's required families are kept
    bare = bootstrap_stats_matcher({})
    assert not keeps(
        bare, "cluster.outbound|9080||ratings.bookinfo.svc.cluster.local.upstream_rq_timeout"
    )
    assert keeps(bare, "cluster.xds-grpc.upstream_rq_total")
