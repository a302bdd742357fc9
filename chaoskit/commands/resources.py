"""``chaoskit apply|delete -f`` and ``chaoskit get``: Istio resources on the current mesh."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import yaml

from chaoskit.commands._target import add_target_arguments, connect
from chaoskit.errors import ConfigError
from chaoskit.topology.podshape import long_running_statuses, ready_containers


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for verb, text in (("apply", "create or update"), ("delete", "delete")):
        parser = subparsers.add_parser(verb, help=f"{text} Istio resources from files")
        parser.add_argument(
            "-f",
            "--filename",
            action="append",
            required=True,
            type=Path,
            metavar="FILE|DIR",
            help="YAML file or directory (repeatable)",
        )
        parser.add_argument(
            "-n",
            "--namespace",
            default="default",
            help="namespace for resources that name none (default: default)",
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="return without waiting for the sidecars to acknowledge",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="seconds to wait for the sidecars (default 10)",
        )
        add_target_arguments(parser)
        parser.set_defaults(handler=run_apply if verb == "apply" else run_delete)
    get = subparsers.add_parser("get", help="list Istio resources (like kubectl get)")
    get.add_argument(
        "kind",
        help="virtualservices|vs, destinationrules|dr, gateways|gw, serviceentries|se, pods, "
        "services|svc",
    )
    get.add_argument("name", nargs="?", help="one resource by name")
    get.add_argument("-n", "--namespace", default="default")
    get.add_argument("-A", "--all-namespaces", action="store_true")
    get.add_argument(
        "-o",
        "--output",
        choices=("table", "wide", "yaml", "json"),
        default="table",
        help="wide: kubectl's extra columns (a pod's node, a service's selector)",
    )
    add_target_arguments(get)
    get.set_defaults(handler=run_get)


def _load(args: argparse.Namespace) -> list[object]:
    from chaoskit.istio.loading import load_resources

    return list(load_resources(args.filename, default_namespace=args.namespace))


def run_apply(args: argparse.Namespace) -> int:
    from chaoskit.istio.loading import LoadedResource

    loaded = _load(args)
    client = connect(args)
    try:
        newest = 0
        for item in loaded:
            assert isinstance(item, LoadedResource)
            applied = client.apply(item.resource, item.namespace)
            newest = max(newest, applied.resource_version)
            print(applied.describe())
        _wait(client, newest, args)
    finally:
        client.close()
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from chaoskit.istio.loading import LoadedResource

    loaded = _load(args)
    client = connect(args)
    try:
        for item in loaded:
            assert isinstance(item, LoadedResource)
            print(client.delete(item.kind, item.namespace, item.name).describe())
        _wait(client, 0, args)
    finally:
        client.close()
    return 0


def _wait(client: object, version: int, args: argparse.Namespace) -> None:
    from chaoskit.kube.client import KubeClient

    assert isinstance(client, KubeClient)
    if args.no_wait or not client.embedded:
        return
    started = time.monotonic()
    status = client.proxy_status()
    target = max(version, int(status["pushedVersion"]))
    result = client.wait_synced(target, args.timeout)
    elapsed_ms = (time.monotonic() - started) * 1000
    print(
        f"config version {target} acknowledged by {len(result['proxies'])} proxies "
        f"in {elapsed_ms:.0f} ms"
    )


_ALIASES = {
    "virtualservice": "virtualservices",
    "vs": "virtualservices",
    "destinationrule": "destinationrules",
    "dr": "destinationrules",
    "gateway": "gateways",
    "gw": "gateways",
    "serviceentry": "serviceentries",
    "se": "serviceentries",
    "pod": "pods",
    "po": "pods",
    "service": "services",
    "svc": "services",
    "httproute": "httproutes",
}


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    struct = time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    seconds = max(0, int(time.time() - _utc_epoch(struct)))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _utc_epoch(struct: time.struct_time) -> float:
    import calendar

    return float(calendar.timegm(struct))


def run_get(args: argparse.Namespace) -> int:
    plural = _ALIASES.get(args.kind.lower(), args.kind.lower())
    known = {
        "virtualservices",
        "destinationrules",
        "gateways",
        "serviceentries",
        "pods",
        "services",
        "httproutes",
    }
    if plural not in known:
        raise ConfigError(
            f"unknown kind {args.kind!r}; use one of {', '.join(sorted(known))} "
            "(or vs, dr, gw, se, po, svc)"
        )
    namespace = None if args.all_namespaces else args.namespace
    client = connect(args)
    try:
        if plural == "pods":
            items = client.pods(namespace)
        elif plural == "services":
            path = f"/api/v1/namespaces/{namespace}/services" if namespace else "/api/v1/services"
            items = list(client.call("GET", path).get("items", []))
        else:
            items = client.list_resources(plural, namespace)
    finally:
        client.close()
    if args.name:
        items = [i for i in items if i["metadata"]["name"] == args.name]
        if not items:
            raise ConfigError(f'{plural} "{args.name}" not found in namespace {args.namespace}')
    if args.output == "json":
        print(json.dumps(items[0] if args.name else {"items": items}, indent=2))
    elif args.output == "yaml":
        print(yaml.safe_dump(items[0] if args.name else {"items": items}, sort_keys=False), end="")
    else:
        _table(plural, items, args.all_namespaces, wide=args.output == "wide")
    return 0


def _service_row(spec: dict[str, Any], wide: bool) -> list[str]:
    """kubectl's columns: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) (and SELECTOR when wide).
    The embedded mesh routes by name, with no virtual IP: its services show ``-``."""
    ports = (
        ",".join(f"{p['port']}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
        or "<none>"
    )
    external = ",".join(spec.get("externalIPs") or []) or "<none>"
    row = [str(spec.get("type", "ClusterIP")), str(spec.get("clusterIP") or "-"), external, ports]
    if wide:
        selector = spec.get("selector") or {}
        row.append(",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>")
    return row


def _table(
    plural: str, items: list[dict[str, object]], all_namespaces: bool, wide: bool = False
) -> None:
    rows: list[list[str]] = []
    for item in items:
        meta = item["metadata"]
        assert isinstance(meta, dict)
        spec = item.get("spec") or {}
        assert isinstance(spec, dict)
        row = [str(meta.get("namespace", ""))] if all_namespaces else []
        row.append(str(meta["name"]))
        if plural == "virtualservices":
            row += [json.dumps(spec.get("gateways") or []), json.dumps(spec.get("hosts") or [])]
        elif plural == "destinationrules":
            row += [str(spec.get("host", ""))]
        elif plural == "httproutes":
            row += [json.dumps(spec.get("hostnames") or [])]
        elif plural == "pods":
            status = item.get("status") or {}
            assert isinstance(status, dict)
            statuses = long_running_statuses(item)  # native sidecars count, as in kubectl
            ready, total = ready_containers(item)
            restarts = max((s.get("restartCount", 0) for s in statuses), default=0)
            row += [
                f"{ready}/{total}",
                str(status.get("phase", "")),
                str(restarts),
                str(status.get("podIP", "")),
            ]
            if wide:
                row += [str(spec.get("nodeName") or "<none>"), "<none>", "<none>"]
        elif plural == "services":
            row += _service_row(spec, wide)
        row.append(_age(str(meta.get("creationTimestamp") or status_start(item))))
        rows.append(row)
    header = (
        (["NAMESPACE"] if all_namespaces else [])
        + ["NAME"]
        + {
            "virtualservices": ["GATEWAYS", "HOSTS"],
            "destinationrules": ["HOST"],
            "httproutes": ["HOSTNAMES"],
            "pods": ["READY", "STATUS", "RESTARTS", "IP"]
            + (["NODE", "NOMINATED NODE", "READINESS GATES"] if wide else []),
            "services": ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"]
            + (["SELECTOR"] if wide else []),
        }.get(plural, [])
        + ["AGE"]
    )
    _print_rows([header, *rows])


def status_start(item: dict[str, object]) -> str:
    status = item.get("status") or {}
    return str(status.get("startTime", "")) if isinstance(status, dict) else ""


def _print_rows(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
