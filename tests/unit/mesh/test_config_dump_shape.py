"""The embedded sidecar's /config_dump in Envoy's wrappers: what the cluster backend and
the doctor read on a real cluster, and what `chaoskit proxy-config` reads back."""

from __future__ import annotations

import copy
from typing import Any

from chaoskit.cluster.stats_matcher import bootstrap_stats_matcher
from chaoskit.experiment.cluster_mesh import config_fingerprint
from chaoskit.mesh.config_dump import embedded_shape, envoy_shape
from chaoskit.observe.proof import faults_in_config

ROUTE: dict[str, Any] = {
    "name": "80",
    "virtual_hosts": [
        {
            "name": "ratings.bookinfo.svc.cluster.local:80",
            "domains": ["ratings.bookinfo", "ratings.bookinfo.svc.cluster.local"],
            "routes": [{"name": "default", "fault": None}],
        }
    ],
}
SNAPSHOT: dict[str, Any] = {
    "proxy": "productpage-v1-1.bookinfo",
    "kind": "sidecar",
    "version": 7,
    "listeners": [{"name": "0.0.0.0_80", "port": 80, "route_config": ROUTE}],
    "clusters": [{"name": "outbound|80||ratings.bookinfo.svc.cluster.local"}],
    "compat": {"istio_version": "1.28"},
}


def test_the_dump_has_envoys_typed_wrappers_and_reads_back() -> None:
    dump = envoy_shape(SNAPSHOT)
    types = [c["@type"].rsplit(".", 1)[1] for c in dump["configs"]]
    assert types == [
        "BootstrapConfigDump",
        "ClustersConfigDump",
        "ListenersConfigDump",
        "RoutesConfigDump",
    ]
    assert embedded_shape(dump) == SNAPSHOT
    assert envoy_shape({}) == {"configs": []}


def test_the_fingerprint_sees_a_route_change_but_not_a_new_push_version() -> None:
    before = config_fingerprint(envoy_shape(SNAPSHOT))
    pushed = dict(SNAPSHOT, version=8)
    assert config_fingerprint(envoy_shape(pushed)) == before
    faulted = copy.deepcopy(SNAPSHOT)
    faulted["listeners"][0]["route_config"]["virtual_hosts"][0]["routes"][0]["fault"] = {
        "abort": {"http_status": 503}
    }
    assert config_fingerprint(envoy_shape(faulted)) != before
    assert faults_in_config(envoy_shape(faulted), "ratings", "bookinfo") == [
        {"abort": {"http_status": 503}}
    ]
    assert faults_in_config(envoy_shape(SNAPSHOT), "ratings", "bookinfo") == []


def test_the_bootstrap_has_no_stats_matcher_so_every_stat_is_kept() -> None:
    import json

    assert bootstrap_stats_matcher(json.dumps(envoy_shape(SNAPSHOT))) == {}
