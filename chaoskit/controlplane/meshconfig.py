"""The embedded mesh's MeshConfig: what ``istio-system/istio`` holds on a cluster.

It starts as the mesh config ``chaoskit cluster up`` installs
(``chaoskit/cluster/assets/istio-operator.yaml``; a unit test keeps the two equal): JSON
access logs in chaoskit's format, and a ``proxyStatsMatcher`` that keeps the per-cluster
stats the experiments read. The ConfigMap can be changed through the API server, and it
takes effect as in Istio:

- the access-log settings at once, for requests served from then on (istiod pushes the new
  listener config; ``pilot/pkg/model/telemetry_logging.go``);
- the stats matcher only for proxies started afterwards: pilot-agent writes it into
  Envoy's bootstrap (``pkg/bootstrap/config.go`` ``getStatsOptions``), which Envoy reads once.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import yaml

from chaoskit.controlplane.store import BadRequest
from chaoskit.mesh.envoy_format import CHAOSKIT_FORMAT

JsonObject = dict[str, Any]
NAMESPACE, NAME = "istio-system", "istio"

DEFAULT_MESH_CONFIG: JsonObject = {
    "accessLogFile": "/dev/stdout",
    "accessLogEncoding": "JSON",
    "accessLogFormat": json.dumps(CHAOSKIT_FORMAT, indent=2) + "\n",
    "defaultConfig": {
        "proxyStatsMatcher": {
            "inclusionPrefixes": [
                "cluster.outbound",
                "cluster.inbound",
                "http.inbound",
                "http.outbound",
            ],
            "inclusionRegexps": [
                ".*outlier_detection.*",
                ".*upstream_rq_.*",
                ".*upstream_cx_.*",
                ".*http.*fault.*",
            ],
        }
    },
}

# istio/istio 1.28.10 pkg/bootstrap/config.go: always included, whatever the proxy config says.
REQUIRED_PREFIXES = ("cluster_manager", "listener_manager", "server", "cluster.xds-grpc", "wasm")
REQUIRED_SUFFIXES = ("rbac.allowed", "rbac.denied", "shadow_allowed", "shadow_denied")
REQUIRED_REGEXPS = (r"vhost\..*\.route\..*",)


def bootstrap_stats_matcher(mesh_config: JsonObject) -> JsonObject:
    """The ``stats_config.stats_matcher`` pilot-agent writes into Envoy's bootstrap
    (tools/packaging/common/envoy_bootstrap.json, tag 1.28.10): ``reporter=`` first, the
    proxy config's inclusions each followed by the required ones, then ``component`` and
    ``istio``. Pod annotations (``sidecar.istio.io/statsInclusionPrefixes``...) are not
    modelled: the embedded mesh's pods carry none."""
    matcher = (mesh_config.get("defaultConfig") or {}).get("proxyStatsMatcher") or {}
    prefixes = [*(matcher.get("inclusionPrefixes") or []), *REQUIRED_PREFIXES]
    suffixes = [*(matcher.get("inclusionSuffixes") or []), *REQUIRED_SUFFIXES]
    regexps = [*(matcher.get("inclusionRegexps") or []), *REQUIRED_REGEXPS]
    patterns: list[JsonObject] = [{"prefix": "reporter="}]
    patterns += [{"prefix": p} for p in prefixes]
    patterns += [{"suffix": s} for s in suffixes]
    patterns += [{"safe_regex": {"regex": r}} for r in regexps]
    patterns += [{"prefix": "component"}, {"prefix": "istio"}]
    return {"inclusion_list": {"patterns": patterns}}


class MeshConfigHistory:
    """The mesh config now, and since when each earlier one was in force (for logs written
    before a change)."""

    def __init__(self, started_at: float | None = None) -> None:
        self._history: list[tuple[float, JsonObject]] = [
            (started_at if started_at is not None else time.time(), DEFAULT_MESH_CONFIG)
        ]
        self.resource_version = 1

    @property
    def current(self) -> JsonObject:
        return self._history[-1][1]

    def at(self, moment: float) -> JsonObject:
        """The mesh config in force at ``moment`` (epoch seconds)."""
        chosen = self._history[0][1]
        for since, config in self._history:
            if since <= moment:
                chosen = config
        return chosen

    def replace(self, mesh_text: str) -> None:
        try:
            config = yaml.safe_load(mesh_text) or {}
        except yaml.YAMLError as exc:
            raise BadRequest(
                f"configmaps istio-system/istio: data.mesh is not YAML: {exc}"
            ) from None
        if not isinstance(config, dict):
            raise BadRequest("configmaps istio-system/istio: data.mesh must be a YAML mapping")
        self._history.append((time.time(), config))
        self.resource_version += 1

    def configmap(self, created: str) -> JsonObject:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": NAME,
                "namespace": NAMESPACE,
                "uid": f"{NAMESPACE}/{NAME}",
                "resourceVersion": str(self.resource_version),
                "creationTimestamp": created,
                "labels": {"istio.io/rev": "default"},
            },
            "data": {"mesh": yaml.safe_dump(copy.deepcopy(self.current), sort_keys=False)},
        }
