"""A sidecar's config in the envelope of Envoy's ``/config_dump`` (``configs``).

Envoy's admin answers ``{"configs": [...]}`` with one ``envoy.admin.v3.*ConfigDump`` per
config type (``api/envoy/admin/v3/config_dump_shared.proto``). The cluster backend reads
that list to see config arrive (``chaoskit.experiment.cluster_mesh.config_fingerprint``:
listeners, clusters, routes, without ``version_info``/``last_updated``). The embedded
sidecar answers with the same envelope and type names around its own resources, so a
change reaches a fingerprint as on a cluster; the resources inside are chaoskit's
dataclasses as JSON, not Envoy's protos. The inbound side is Istio's ``virtualInbound``
with the HTTP filters EnvoyFilters inserted, then the router.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chaoskit.mesh.codec import to_jsonable
from chaoskit.mesh.config import ProxySnapshot, RouteConfig

ADMIN = "type.googleapis.com/envoy.admin.v3."
ROUTER = "envoy.filters.http.router"


def config_dumps(snapshot: ProxySnapshot) -> list[dict[str, Any]]:
    version = str(snapshot.version)
    listeners = [
        {
            "name": listener.name,
            "active_state": {
                "version_info": version,
                "listener": to_jsonable(replace(listener, route_config=RouteConfig("", ()))),
            },
        }
        for listener in snapshot.listeners
    ]
    if snapshot.kind == "sidecar":
        inbound = {
            "name": "virtualInbound",
            "http_filters": [*to_jsonable(snapshot.inbound_filters), {"name": ROUTER}],
        }
        listeners.append(
            {
                "name": "virtualInbound",
                "active_state": {"version_info": version, "listener": inbound},
            }
        )
    return [
        {"@type": ADMIN + "ListenersConfigDump", "dynamic_listeners": listeners},
        {
            "@type": ADMIN + "ClustersConfigDump",
            "dynamic_active_clusters": [
                # EDS clusters: Envoy dumps endpoints apart (EndpointsConfigDump), not here.
                {"version_info": version, "cluster": to_jsonable(replace(c, endpoints=()))}
                for c in snapshot.clusters
            ],
        },
        {
            "@type": ADMIN + "RoutesConfigDump",
            "dynamic_route_configs": [
                {"version_info": version, "route_config": to_jsonable(lst.route_config)}
                for lst in snapshot.listeners
            ],
        },
    ]
