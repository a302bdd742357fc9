"""``chaoskit mesh snapshot --kube-context NAME [--namespaces a,b] -o DIR``: read a live
cluster (GET only) and write a twin of its mesh for the embedded mesh."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaoskit.cluster.snapshot import Snapshot


def add_snapshot_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "snapshot",
        help="write a twin of a live cluster's services, workloads and Istio config",
        description="Read a live cluster (it never writes; of Secrets it reads names only) and "
        "write DIR/mesh.yaml, DIR/resources/ and DIR/README.md: a mesh spec the embedded "
        "mesh runs with `chaoskit mesh up --spec DIR/mesh.yaml`.",
    )
    parser.add_argument("--kube-context", default=None, help="default: the current context")
    parser.add_argument("--kubeconfig", default=None, help="default: $KUBECONFIG, ~/.kube/config")
    parser.add_argument(
        "--namespaces",
        default=None,
        help="comma-separated namespaces to read (default: every one but Kubernetes' and "
        "istio-system; the ingress gateway is always read)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--prometheus",
        default=None,
        metavar="URL",
        help="calibrate each workload's latency, error codes and calls from Istio's standard "
        "metrics in this Prometheus (e.g. http://127.0.0.1:9090 through a port-forward)",
    )
    parser.add_argument(
        "--prometheus-window",
        default="1h",
        metavar="DURATION",
        help="the metrics' window, in Prometheus's duration syntax (default: 1h)",
    )
    parser.set_defaults(handler=run_snapshot)


def run_snapshot(args: argparse.Namespace) -> int:
    from chaoskit.cluster.prometheus import check_window
    from chaoskit.cluster.snapshot import read_snapshot, write_snapshot
    from chaoskit.kube.client import KubeClient

    if args.prometheus:
        check_window(args.prometheus_window)  # before reading anything
    client = KubeClient.from_kubeconfig(args.kubeconfig, args.kube_context)
    context = client.context or "(current context)"
    print(f"reading context {context} at {client.server} (read-only)")
    namespaces = None
    if args.namespaces:
        namespaces = [n.strip() for n in args.namespaces.split(",") if n.strip()]
    try:
        snap = read_snapshot(client, context=context, server=client.server, namespaces=namespaces)
    finally:
        client.close()
    if args.prometheus:
        _calibrate(snap, args.prometheus, args.prometheus_window)
    spec = write_snapshot(snap, args.output)
    print(
        f"wrote {spec}: {len(snap.services)} services, {len(snap.workloads)} workloads, "
        f"{len(snap.istio)} Istio objects"
    )
    for warning in snap.warnings:
        print(f"left out: {warning}")
    print(f"next: chaoskit mesh up --spec {spec}")
    return 0


def _calibrate(snap: Snapshot, url: str, window: str) -> None:
    from chaoskit.cluster.calibrate import calibrate
    from chaoskit.cluster.prometheus import Prometheus, PrometheusError
    from chaoskit.cluster.snapshot import DEFAULT_BEHAVIOUR, app_workloads

    print(f"calibrating from Prometheus at {url} (last {window})")
    prometheus = Prometheus(url)
    try:
        snap.calibration = calibrate(prometheus, snap.services, app_workloads(snap), window)
    except PrometheusError as exc:
        snap.calibration_problem = str(exc)
        print(
            f"not calibrated: {exc}\nthe twin keeps the default behaviour "
            f"({DEFAULT_BEHAVIOUR}); README.md says so"
        )
        return
    finally:
        prometheus.close()
    print(f"calibrated {len(snap.calibration.settings)} workload(s); README.md lists the queries")
