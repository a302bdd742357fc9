"""``python -m benchmarks.snapshot``: ``chaoskit mesh snapshot`` and its twin's start-up.

1. A snapshot of 50 Services (50 Deployments) and 200 Istio objects from the contract fake
   API server (tests/contract/fake_apiserver.py), read and written as the command does;
   the reference is the same GETs made raw (the fake's own list time), so what is the
   snapshot's and what is the server's can be told apart.
2. A twin of 30 workloads (a snapshot of 30 Services and Deployments) started with the
   embedded mesh until every pod is ready; the reference is the built-in mesh (Bookinfo and
   the demo services, 17 pods) started in the same run.

It writes the section "Snapshot and twin" of BENCHMARKS.md between markers, with the load
average around each part. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.sections import quietness, replace_section
from chaoskit.cluster.snapshot import read_snapshot, write_snapshot
from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.errors import BackendError
from chaoskit.kube.client import KubeClient
from tests.contract.fake_apiserver import FakeApiServer

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- snapshot:start -->"
END = "<!-- snapshot:end -->"
SNAPSHOT_BUDGET_S = 5.0
TWIN_BUDGET_S = 5.0
NAMESPACE = "shop"


def fill(fake: FakeApiServer, services: int, istio_objects: int) -> None:
    """``services`` Services with a Deployment each, and ``istio_objects`` Istio objects
    (VirtualServices, DestinationRules and ServiceEntries in turn)."""
    fake.namespace_labels[NAMESPACE] = {"istio-injection": "enabled"}
    for i in range(services):
        name = f"svc-{i:03d}"
        fake.add_deployment(NAMESPACE, name, {"app": name, "version": "v1"})
        fake.add_service(NAMESPACE, name, {"app": name}, [{"name": "http", "port": 8080}])
    for i in range(istio_objects):
        host = f"svc-{i % services:03d}"
        kind = ("VirtualService", "DestinationRule", "ServiceEntry")[i % 3]
        name = f"{kind.lower()}-{i:03d}"
        spec: dict[str, object] = {
            "VirtualService": {
                "hosts": [host],
                "http": [{"route": [{"destination": {"host": host}}], "timeout": "2s"}],
            },
            "DestinationRule": {
                "host": host,
                "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 100}}},
            },
            "ServiceEntry": {
                "hosts": [f"ext-{i}.example.com"],
                "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
                "resolution": "DNS",
            },
        }[kind]
        plural = {"VirtualService": "virtualservices", "DestinationRule": "destinationrules"}
        fake.put_object(
            plural.get(kind, "serviceentries"),
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": kind,
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": spec,
            },
        )


def timed(runs: int, step: Callable[[], object]) -> list[float]:
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - began)
    return seconds


def snapshot_times(runs: int) -> tuple[list[float], list[float], int, int]:
    """(snapshot seconds, raw GET seconds, services, Istio objects) over ``runs`` runs."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeApiServer().start(Path(tmp))
        try:
            fill(fake, 50, 200)
            client = KubeClient.from_kubeconfig(str(fake.kubeconfig), fake.context)
            out = Path(tmp) / "twin"

            def snapshot() -> None:
                snap = read_snapshot(client, context=fake.context, server=fake.url)
                write_snapshot(snap, out)

            snapshot()  # warm: the client's first request loads its configuration
            counted = read_snapshot(client, context=fake.context, server=fake.url)
            fake.log.clear()
            snapshot()
            paths = [path for _, path in fake.log]

            def raw() -> None:
                for path in paths:
                    # Lists the fake does not serve (StatefulSets, security.istio.io) answer
                    # 404, as on a cluster without them; the snapshot takes that as none.
                    with contextlib.suppress(BackendError):
                        client.call("GET", path)

            took = timed(runs, snapshot)
            reference = timed(runs, raw)
            client.close()
        finally:
            fake.stop()
    return took, reference, len(counted.services), len(counted.istio)


def twin_spec(directory: Path, workloads: int) -> Path:
    fake = FakeApiServer().start(directory)
    try:
        fill(fake, workloads, 0)
        client = KubeClient.from_kubeconfig(str(fake.kubeconfig), fake.context)
        snap = read_snapshot(client, context=fake.context, server=fake.url)
        client.close()
        return write_snapshot(snap, directory / "twin")
    finally:
        fake.stop()


def mesh_up(runs: int, spec: Path | None) -> list[float]:
    """Seconds from starting the mesh to every pod ready (MeshProcess.start returns then)."""
    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            mesh = MeshProcess.start(Path(tmp) / "mesh", spec=spec)
            seconds.append(time.perf_counter() - began)
            mesh.stop()
    return seconds


def load() -> float:
    return os.getloadavg()[0]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()

    load_before = load()
    took, raw, services, istio = snapshot_times(args.runs)
    load_middle = load()
    with tempfile.TemporaryDirectory() as tmp:
        spec = twin_spec(Path(tmp), 30)
        twin = mesh_up(args.runs, spec)
    builtin = mesh_up(args.runs, None)
    load_after = load()

    rows = [
        (
            f"snapshot of {services} Services (and as many Deployments) and {istio} Istio "
            "objects from the contract fake, read and written; p50 / max",
            spread(took),
            f"≤ {SNAPSHOT_BUDGET_S:g} s",
        ),
        (
            "…the same GETs made raw (the fake's own list time); p50 / max",
            spread(raw),
            "reference",
        ),
        (
            "twin of 30 workloads (31 pods with the gateway) up → every pod ready; p50 / max",
            spread(twin),
            f"≤ {TWIN_BUDGET_S:g} s",
        ),
        (
            "built-in mesh (Bookinfo and demo, 17 pods) up → every pod ready; p50 / max",
            spread(builtin),
            "reference",
        ),
    ]
    verdicts = "; ".join(
        f"{what}: budget {'met' if max(values) <= budget else 'NOT met'} by the slowest run"
        for what, values, budget in (
            ("snapshot", took, SNAPSHOT_BUDGET_S),
            ("twin up", twin, TWIN_BUDGET_S),
        )
    )
    ratio = statistics.median(twin) / statistics.median(builtin)
    lines = [
        START,
        "## Snapshot and twin",
        "",
        f"Measured by `python -m benchmarks.snapshot` ({args.runs} runs of each; 1-minute "
        f"load average {load_before:.1f} before, {load_middle:.1f} after the snapshots, "
        f"{load_after:.1f} at the end; {quietness(load_before, load_middle, load_after)}).",
        "",
        "| what | measured | budget |",
        "|---|---|---|",
        *(f"| {what} | {measured} | {budget} |" for what, measured, budget in rows),
        "",
        f"{verdicts}. The twin's start-up is {ratio:.2f} × the built-in mesh's in the same "
        "run (31 pods against 17).",
        END,
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        replace_section(ROOT / "BENCHMARKS.md", text, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
