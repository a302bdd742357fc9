"""CPU cost of the data plane as ratios to a reference measured in the same run.

The reference is ``benchmarks.refserver``: the echo app on the same HTTP layer, the same
interpreter and event loop, with no sidecar. Dividing by it cancels most of what differs
between machines and between a quiet and a busy minute, so a stored ratio can guard later
changes (``benchmarks/test_regression.py``). Costs are CPU seconds (utime + stime from
``/proc/PID/stat``) per request of a closed-loop run over loopback, never wall time; each
ratio is the smallest of a few rounds, as contention only ever adds CPU.

``python -m benchmarks.ratios`` prints the ratios; ``--write`` stores them as the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvloop

from benchmarks.__main__ import GATEWAY, ROOT, SPEC, apply, cpu_seconds, free_port
from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.controlplane.pods import pod_pids
from chaoskit.kube.client import KubeClient
from chaoskit.mesh.http.client import HttpConnection
from chaoskit.mesh.http.message import Headers, Request

REFERENCE = Path(__file__).with_name("reference_ratios.json")
# Requests per round: the echo paths cost tens of microseconds each, and CPU time is read in
# 10 ms ticks, so they need thousands for the tick to be a small error.
REQUESTS = {"/": 6000, "/productpage": 2000}
CONNECTIONS = 16
ROUNDS = 3
MAX_ROUND_S = 60.0  # a bound on each load loop, whatever the machine


async def _closed_loop(address: tuple[str, int], path: str, total: int) -> dict[int, int]:
    """``total`` GETs over CONNECTIONS keep-alive connections; statuses counted."""
    statuses: dict[int, int] = {}
    sent = 0
    deadline = time.monotonic() + MAX_ROUND_S

    async def worker() -> None:
        nonlocal sent
        conn = await HttpConnection.open(address, connect_timeout_s=5)
        try:
            while sent < total and time.monotonic() < deadline:
                sent += 1
                if not conn.is_reusable:
                    conn.close()
                    conn = await HttpConnection.open(address, connect_timeout_s=5)
                response = await conn.send(Request("GET", path, Headers([("host", "bench")])))
                statuses[response.status] = statuses.get(response.status, 0) + 1
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return statuses


def cpu_per_request(pids: list[int], address: tuple[str, int], path: str) -> float:
    """CPU seconds the processes spent per answered 200 of one closed-loop round."""
    before = sum(cpu_seconds(pid) for pid in pids)
    total = REQUESTS[path]
    statuses = uvloop.run(_closed_loop(address, path, total))
    spent = sum(cpu_seconds(pid) for pid in pids) - before
    ok = statuses.get(200, 0)
    if ok < total * 0.99:
        raise RuntimeError(f"{path} on {address}: {statuses} out of {total} requests")
    return spent / ok


@contextmanager
def reference_server() -> Iterator[tuple[int, tuple[str, int]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.refserver", str(port)], stdout=subprocess.PIPE, cwd=ROOT
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        yield process.pid, ("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def measure() -> dict[str, float]:
    """Both ratios, each the minimum over ROUNDS rounds alternating with the reference."""
    proxy: list[float] = []
    page: list[float] = []
    with tempfile.TemporaryDirectory(prefix="chaoskit-ratios-") as raw, reference_server() as ref:
        ref_pid, ref_address = ref
        small = MeshProcess.start(Path(raw) / "small", spec=SPEC)
        bookinfo = MeshProcess.start(Path(raw) / "bookinfo")
        try:
            client = KubeClient.from_kubeconfig(small.info.kubeconfig, embedded=True)
            apply(client, GATEWAY)
            client.close()
            small_gw = ("127.0.0.1", int(small.info.ingress_http.rsplit(":", 1)[1]))
            small_pids = [
                pid
                for proxy_id, pid in pod_pids(Path(raw) / "small").items()
                if proxy_id.startswith(("istio-ingressgateway", "backend"))
            ]
            book_gw = ("127.0.0.1", int(bookinfo.info.ingress_http.rsplit(":", 1)[1]))
            book_pids = list(pod_pids(Path(raw) / "bookinfo").values())
            # Warm up every path (connections, the pods' first-request imports).
            for pids, address, path in (
                ([ref_pid], ref_address, "/"),
                (small_pids, small_gw, "/"),
                (book_pids, book_gw, "/productpage"),
            ):
                cpu_per_request(pids, address, path)
            for _ in range(ROUNDS):
                direct = cpu_per_request([ref_pid], ref_address, "/")
                # Gateway + the backend's sidecar and app; the app's share is the reference.
                through = cpu_per_request(small_pids, small_gw, "/")
                proxy.append(max(0.0, through - direct) / 2 / direct)
                page.append(cpu_per_request(book_pids, book_gw, "/productpage") / direct)
        finally:
            bookinfo.stop()
            small.stop()
    return {"proxy_cpu_over_direct": min(proxy), "productpage_cpu_over_direct": min(page)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ratios")
    parser.add_argument("--write", action="store_true", help=f"store as {REFERENCE.name}")
    args = parser.parse_args()
    ratios = measure()
    print(json.dumps(ratios, indent=2))
    if args.write:
        REFERENCE.write_text(json.dumps(ratios, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
