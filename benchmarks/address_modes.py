"""``python -m benchmarks.address_modes``: ip mode and port mode side by side, in one run.

Port mode (every pod on 127.0.0.1 with ports of its own, as on a Mac without loopback
aliases) must keep ip mode's budgets: latency added per hop, mesh up → first /productpage,
apply → every proxy acknowledged. Both modes run on this machine (Linux binds either), one
after the other in alternation (ip, port, ip, port, ...) so a change in the machine's load
falls on both. The direct reference (the echo app with no sidecar) is measured once per
round. Writes the section "Address modes" of BENCHMARKS.md between markers, with the load
average; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.__main__ import GATEWAY, SPEC, apply, free_port, run_load
from benchmarks.sections import quietness, replace_section
from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.kube.client import KubeClient

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- address-modes:start -->"
END = "<!-- address-modes:end -->"
MODES = ("ip", "port")
BUDGETS = {"hop_p90_ms": 1.0, "first_page_s": 3.0, "ack_p99_ms": 100.0}


def bookinfo(mode: str, tmp: Path, applies: int) -> tuple[float, list[float]]:
    """Built-in spec: mesh up → first 200 from /productpage; then apply → all acked."""
    began = time.monotonic()
    mesh = MeshProcess.start(tmp / f"bookinfo-{mode}", address_mode=mode)
    try:
        if mesh.info.address_mode != mode:
            raise SystemExit(f"asked for {mode} mode, the mesh runs {mesh.info.address_mode}")
        url = f"{mesh.info.ingress_http}/productpage"
        while requests.get(url, timeout=10).status_code != 200:
            if time.monotonic() - began > 60:
                raise SystemExit(f"{mode} mode: no 200 from /productpage within 60 s")
            time.sleep(0.01)
        first_page = time.monotonic() - began
        client = KubeClient.from_kubeconfig(mesh.info.kubeconfig, embedded=True)
        template = (
            ROOT / "chaoskit" / "samples" / "bookinfo" / "virtual-service-reviews-timeout.yaml"
        ).read_text()
        waits = []
        try:
            for i in range(applies):
                t0 = time.monotonic()
                apply(client, template.replace("timeout: 0.5s", f"timeout: {i + 1}s"))
                waits.append(time.monotonic() - t0)
        finally:
            client.close()
        return first_page, sorted(waits)
    finally:
        mesh.stop()


def through_gateway(mode: str, tmp: Path, rate: float, duration: float) -> list[float]:
    """Small spec: gateway → backend sidecar under open-loop load; latencies in seconds."""
    mesh = MeshProcess.start(tmp / f"small-{mode}", spec=SPEC, address_mode=mode)
    try:
        client = KubeClient.from_kubeconfig(mesh.info.kubeconfig, embedded=True)
        try:
            apply(client, GATEWAY)
        finally:
            client.close()
        gateway = ("127.0.0.1", int(mesh.info.ingress_http.rsplit(":", 1)[1]))
        run_load(gateway, rate, 2)  # warm up
        return run_load(gateway, rate, duration).latencies
    finally:
        mesh.stop()


def direct(rate: float, duration: float) -> list[float]:
    port = free_port()
    ref = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.refserver", str(port)], stdout=subprocess.PIPE, cwd=ROOT
    )
    try:
        assert ref.stdout is not None
        ref.stdout.readline()
        run_load(("127.0.0.1", port), rate, 1)
        return run_load(("127.0.0.1", port), rate, duration).latencies
    finally:
        ref.terminate()
        ref.wait(5)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.address_modes")
    parser.add_argument("--rounds", type=int, default=2, help="mesh ups per mode")
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--applies", type=int, default=20, help="applies per Bookinfo mesh")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    first_pages: dict[str, list[float]] = {m: [] for m in MODES}
    acks: dict[str, list[float]] = {m: [] for m in MODES}
    mesh_latency: dict[str, list[float]] = {m: [] for m in MODES}
    direct_latency: list[float] = []
    with tempfile.TemporaryDirectory(prefix="chaoskit-bench-modes-") as raw:
        tmp = Path(raw)
        for round_ in range(args.rounds):
            direct_latency += direct(args.rate, args.duration)
            order = MODES if round_ % 2 == 0 else tuple(reversed(MODES))
            for mode in order:
                first_page, waits = bookinfo(mode, tmp / str(round_), args.applies)
                first_pages[mode].append(first_page)
                acks[mode] += waits
                mesh_latency[mode] += through_gateway(
                    mode, tmp / str(round_), args.rate, args.duration
                )
    load_after = os.getloadavg()[0]
    direct_p90 = quantile(direct_latency, 0.9)
    rows = []
    for mode in MODES:
        lat = mesh_latency[mode]
        hop_ms = (quantile(lat, 0.9) - direct_p90) * 1000
        ups = first_pages[mode]
        ack_ms = [w * 1000 for w in acks[mode]]
        rows.append(
            f"| {mode} | {quantile(lat, 0.5) * 1000:.2f} / {quantile(lat, 0.9) * 1000:.2f} / "
            f"{quantile(lat, 0.99) * 1000:.2f} ms | {hop_ms:.2f} ms | "
            f"{statistics.median(ups):.2f} / {max(ups):.2f} s | "
            f"{statistics.median(ack_ms):.0f} / {quantile(ack_ms, 0.99):.0f} ms |"
        )
    lines = [
        START,
        "## Address modes: ip and port",
        "",
        f"Measured by `python -m benchmarks.address_modes` ({args.rounds} rounds, the modes "
        f"alternating; {args.rate:.0f} rps open loop for {args.duration:g} s per window; "
        f"1-minute load average {load_before:.1f} before, {load_after:.1f} after; "
        f"{quietness(load_before, load_after)}). Direct reference (echo app, no "
        f"sidecar) p90 {direct_p90 * 1000:.2f} ms.",
        "",
        "| mode | gateway → sidecar, p50 / p90 / p99 | added per hop (p90 − direct p90; "
        f"budget ≤ {BUDGETS['hop_p90_ms']:g} ms) | mesh up → first /productpage, p50 / max "
        f"(≤ {BUDGETS['first_page_s']:g} s) | apply → all acked, 17 pods, p50 / p99 "
        f"(≤ {BUDGETS['ack_p99_ms']:g} ms) |",
        "|---|---|---|---|---|",
        *rows,
        END,
    ]
    section = "\n".join(lines)
    replace_section(args.out, section, START, END)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
