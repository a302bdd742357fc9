"""``chaoskit proxy-status`` and ``chaoskit proxy-config``: what each sidecar has.

Output is shaped like ``istioctl proxy-status`` / ``istioctl proxy-config`` so the seed's
debug commands read the same: ``chaoskit proxy-config routes deploy/my-app -o json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import requests

from chaoskit.commands._target import add_target_arguments, connect
from chaoskit.commands.envoy_routes import route_configurations
from chaoskit.errors import BackendError, ConfigError
from chaoskit.topology.host_ports import admin_address

LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = subparsers.add_parser("proxy-status", help="config sync state of every proxy")
    add_target_arguments(status)
    status.set_defaults(handler=run_status)
    config = subparsers.add_parser(
        "proxy-config", aliases=["pc"], help="what a proxy has (like istioctl proxy-config)"
    )
    config.add_argument(
        "type", choices=("routes", "clusters", "endpoints", "listeners", "stats", "log", "all")
    )
    config.add_argument("target", metavar="POD|deploy/NAME", help="pod[.namespace] or deploy/NAME")
    config.add_argument("-n", "--namespace", default="default")
    config.add_argument("-o", "--output", choices=("short", "json", "yaml"), default="short")
    config.add_argument("--cluster", default=None, help="endpoints: only this cluster")
    config.add_argument("--level", default=None, help=f"log: set the level ({', '.join(LEVELS)})")
    add_target_arguments(config)
    config.set_defaults(handler=run_config)


def _rows(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "     ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )


def run_status(args: argparse.Namespace) -> int:
    client = connect(args)
    try:
        status = client.proxy_status()
    finally:
        client.close()
    rows = [["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ISTIOD", "VERSION"]]
    for row in status["proxies"]:
        state = row["state"]
        rows.append(
            [
                row["proxy"],
                "Kubernetes",
                state,
                state,
                state,
                state,
                "chaoskit-embedded",
                str(row["version"]),
            ]
        )
    print(_rows(rows))
    lost = [row["proxy"] for row in status["proxies"] if row.get("lost")]
    if lost:  # pods that died without a fault: the mesh is not what it claims
        print(f"error: {len(lost)} pod(s) lost: {', '.join(lost)}", file=sys.stderr)
        return 1
    return 0


def _resolve_pod(client: Any, target: str, namespace: str) -> dict[str, Any]:
    pod = _find_pod(client, target, namespace)
    annotations = pod["metadata"].get("annotations") or {}
    if annotations.get("ambient.istio.io/redirection") == "enabled":
        # An ambient pod has no Envoy to ask (istioctl proxy-config fails the same way).
        meta = pod["metadata"]
        raise ConfigError(
            f"pod {meta['name']}.{meta['namespace']} is in ambient mode and has no sidecar: "
            f"its L7 policy is in its namespace's waypoint (try deploy/waypoint -n "
            f"{meta['namespace']}), its L4 traffic in ztunnel (istio-system)"
        )
    return pod


def _find_pod(client: Any, target: str, namespace: str) -> dict[str, Any]:
    if "." in target and not target.startswith("deploy/"):
        target, namespace = target.split(".", 1)
    pods = client.pods(namespace)
    if target.startswith(("deploy/", "deployment/")):
        name = target.split("/", 1)[1]
        owned = [
            p
            for p in pods
            if any(o.get("name") == name for o in p["metadata"].get("ownerReferences", []))
            and p["status"].get("phase") == "Running"
        ]
        if not owned:
            raise ConfigError(f"deployment {name!r} has no running pod in namespace {namespace}")
        return dict(sorted(owned, key=lambda p: p["metadata"]["name"])[0])
    for pod in pods:
        if pod["metadata"]["name"] == target:
            return dict(pod)
    names = ", ".join(sorted(p["metadata"]["name"] for p in pods)) or "none"
    raise ConfigError(f"pod {target!r} not found in namespace {namespace} (pods: {names})")


def _admin(pod: dict[str, Any], path: str, method: str = "GET") -> requests.Response:
    address = admin_address(pod)  # podIP:15000, or the pod's own port in port mode
    try:
        response = requests.request(method, f"http://{address}{path}", timeout=5)
    except requests.RequestException as exc:
        raise BackendError(
            f"cannot reach the admin endpoint of {pod['metadata']['name']} ({address}): {exc}"
        ) from None
    if response.status_code >= 400:
        raise BackendError(f"admin {path}: {response.status_code} {response.text.strip()}")
    return response


def run_config(args: argparse.Namespace) -> int:
    client = connect(args)
    try:
        pod = _resolve_pod(client, args.target, args.namespace)
    finally:
        client.close()
    if args.type == "stats":
        print(_admin(pod, "/stats").text, end="")
        return 0
    if args.type == "log":
        if args.level is not None and args.level not in LEVELS:
            raise ConfigError(f"unknown level {args.level!r}; use one of {', '.join(LEVELS)}")
        path = f"/logging?level={args.level}" if args.level else "/logging"
        print(_admin(pod, path, "POST" if args.level else "GET").text, end="")
        return 0
    dump = _admin(pod, "/config_dump").json()
    if args.type == "endpoints":
        clusters = _admin(pod, "/clusters?format=json").json()["cluster_statuses"]
        return _print(args, clusters, _endpoints_table(clusters, args.cluster))
    sections = {
        "routes": [lst["route_config"] for lst in dump.get("listeners", [])],
        "clusters": dump.get("clusters", []),
        "listeners": [*dump.get("listeners", []), *_inbound_listener(pod, dump)],
    }
    if args.type == "all":
        return _print(args, dump, json.dumps(dump, indent=2))
    table = {
        "routes": _routes_table,
        "clusters": _clusters_table,
        "listeners": _listeners_table,
    }[args.type](sections[args.type])
    if args.type == "routes":  # istioctl prints Envoy's RouteConfiguration JSON
        return _print(args, route_configurations(sections["routes"]), table)
    return _print(args, sections[args.type], table)


def _print(args: argparse.Namespace, data: Any, table: str) -> int:
    if args.output == "json":
        print(json.dumps(data, indent=2))
    elif args.output == "yaml":
        import yaml

        print(yaml.safe_dump(data, sort_keys=False), end="")
    else:
        print(table)
    return 0


def _match_text(match: dict[str, Any]) -> str:
    path = match.get("path") or {}
    kind, value = str(path.get("kind")), str(path.get("value", ""))
    return {"prefix": f"{value}*", "exact": value, "regex": value}.get(kind, "/*")


def _routes_table(configs: list[dict[str, Any]]) -> str:
    rows = [["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"]]
    for config in configs:
        for vhost in config["virtual_hosts"]:
            domains = vhost["domains"]
            shown = ", ".join(domains[:2]) + (
                f" + {len(domains) - 2} more..." if len(domains) > 2 else ""
            )
            for route in vhost["routes"] or [None]:
                if route is None:
                    rows.append([config["name"], vhost["name"], shown, "/*", "404"])
                    continue
                rows.append(
                    [
                        config["name"],
                        vhost["name"],
                        shown,
                        _match_text(route["match"]),
                        route.get("virtual_service", ""),
                    ]
                )
    return _rows(rows)


def _clusters_table(clusters: list[dict[str, Any]]) -> str:
    rows = [["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"]]
    for cluster in clusters:
        rows.append(
            [
                cluster["service"],
                str(cluster["port"]),
                cluster["subset"] or "-",
                cluster["direction"],
                "EDS",
                cluster["destination_rule"],
            ]
        )
    return _rows(rows)


INBOUND_PORT = 15006  # Istio's virtualInbound listener, where iptables sends inbound traffic
ROUTER = "envoy.filters.http.router"


def _inbound_listener(pod: dict[str, Any], dump: dict[str, Any]) -> list[dict[str, Any]]:
    """A sidecar's virtualInbound: one HTTP filter chain per container port, each with the
    HTTP filters EnvoyFilters inserted before the router (``inbound_filters``)."""
    if "inbound_filters" not in dump or dump.get("kind") == "gateway":
        return []
    ports = sorted(
        {
            int(p["containerPort"])
            for c in (pod.get("spec") or {}).get("containers") or []
            for p in c.get("ports") or []
        }
    )
    chains = []
    for port in ports:
        inserted = [
            {"name": f["name"], "source": f["source"]}
            for f in dump["inbound_filters"]
            if not f["ports"] or port in f["ports"]
        ]
        chains.append(
            {
                "destination_port": port,
                "cluster": f"inbound|{port}||",
                "http_filters": [*inserted, {"name": ROUTER, "source": ""}],
            }
        )
    return [{"name": "virtualInbound", "port": INBOUND_PORT, "filter_chains": chains}]


def _listeners_table(listeners: list[dict[str, Any]]) -> str:
    rows = [["ADDRESSES", "PORT", "MATCH", "DESTINATION"]]
    for listener in listeners:
        if listener.get("name") == "virtualInbound":
            for chain in listener["filter_chains"]:
                filters = " → ".join(f["name"] for f in chain["http_filters"])
                rows.append(
                    [
                        "0.0.0.0",
                        str(listener["port"]),
                        f"Addr: *:{chain['destination_port']}",
                        f"Cluster: {chain['cluster']} (HTTP filters: {filters})",
                    ]
                )
            continue
        rows.append(
            ["0.0.0.0", str(listener["port"]), "ALL", f"Route: {listener['route_config']['name']}"]
        )
    return _rows(rows)


def _endpoints_table(clusters: list[dict[str, Any]], only: str | None) -> str:
    rows = [["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"]]
    for cluster in clusters:
        if only and cluster["name"] != only:
            continue
        for host in cluster["host_statuses"]:
            rows.append(
                [
                    host["address"],
                    "HEALTHY" if host["eds_healthy"] else "UNHEALTHY",
                    "FAILED" if host["failed_outlier_check"] else "OK",
                    cluster["name"],
                ]
            )
    return _rows(rows)
