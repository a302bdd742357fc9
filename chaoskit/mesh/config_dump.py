"""A sidecar's ``/config_dump`` in Envoy's top-level shape.

Envoy answers ``/config_dump`` with ``{"configs": [...]}``, one typed dump per config kind
(``envoy/admin/v3/config_dump.proto``): the bootstrap, then the clusters, listeners and
route tables each with the ``version_info`` of the xDS push that brought them
(``config_dump_shared.proto``). Clients on a real cluster (the cluster backend waiting for a
change to arrive, the doctor reading the bootstrap's stats matcher, istioctl) read those
wrappers by their ``@type``; so does chaoskit against the embedded mesh.

Inside the wrappers the payloads are the embedded sidecar's own listener, cluster and route
structures (the names and keys the compiler emits, e.g. a route's ``fault``), not Envoy's
protobuf messages: ``chaoskit proxy-config routes -o json`` renders those as Envoy's
``RouteConfiguration`` for people. The bootstrap carries the node and no ``stats_matcher``:
the embedded sidecar keeps every stat, as an Envoy without a matcher does.
"""

from __future__ import annotations

from typing import Any

TYPE_PREFIX = "type.googleapis.com/envoy.admin.v3."
BOOTSTRAP = TYPE_PREFIX + "BootstrapConfigDump"
CLUSTERS = TYPE_PREFIX + "ClustersConfigDump"
LISTENERS = TYPE_PREFIX + "ListenersConfigDump"
ROUTES = TYPE_PREFIX + "RoutesConfigDump"


def envoy_shape(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The embedded sidecar's snapshot (as JSON) in Envoy's ``/config_dump`` wrappers."""
    if not snapshot:
        return {"configs": []}
    version = str(snapshot.get("version", ""))
    listeners = list(snapshot.get("listeners") or [])
    return {
        "configs": [
            {"@type": BOOTSTRAP, "bootstrap": {"node": {"id": snapshot.get("proxy", "")}}},
            {
                "@type": CLUSTERS,
                "version_info": version,
                "dynamic_active_clusters": [
                    {"version_info": version, "cluster": cluster}
                    for cluster in snapshot.get("clusters") or []
                ],
            },
            {
                "@type": LISTENERS,
                "version_info": version,
                "dynamic_listeners": [
                    {
                        "name": listener["name"],
                        "active_state": {
                            "version_info": version,
                            "listener": {
                                **{k: v for k, v in listener.items() if k != "route_config"},
                                "route_config_name": (listener.get("route_config") or {}).get(
                                    "name"
                                ),
                            },
                        },
                    }
                    for listener in listeners
                ],
            },
            {
                "@type": ROUTES,
                "dynamic_route_configs": [
                    {"version_info": version, "route_config": listener["route_config"]}
                    for listener in listeners
                    if listener.get("route_config")
                ],
            },
        ],
        # What else the embedded sidecar knows of its config (its kind, Istio behaviour).
        "chaoskit": {k: v for k, v in snapshot.items() if k not in ("listeners", "clusters")},
    }


def embedded_shape(dump: dict[str, Any]) -> dict[str, Any]:
    """Back from :func:`envoy_shape` to the snapshot's listeners (with their route tables)
    and clusters, for ``chaoskit proxy-config``."""
    by_type = {str(c.get("@type")): c for c in dump.get("configs") or []}
    routes = {
        r["route_config"]["name"]: r["route_config"]
        for r in by_type.get(ROUTES, {}).get("dynamic_route_configs", [])
    }
    listeners = []
    for entry in by_type.get(LISTENERS, {}).get("dynamic_listeners", []):
        listener = dict(entry["active_state"]["listener"])
        name = listener.pop("route_config_name", None)
        if name in routes:
            listener["route_config"] = routes[name]
        listeners.append(listener)
    clusters = [c["cluster"] for c in by_type.get(CLUSTERS, {}).get("dynamic_active_clusters", [])]
    return {**dump.get("chaoskit", {}), "listeners": listeners, "clusters": clusters}
