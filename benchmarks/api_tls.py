"""``python -m benchmarks.api_tls``: what HTTPS on the embedded API server adds to mesh up.

Each mesh up makes a CA and a serving certificate (P-256), writes them and loads them into
an SSL context before the API server listens. This measures that step alone, repeated, and
whole mesh ups with it (built-in spec: ``mesh up`` → the first 200 from /productpage through
the gateway, against the 3 s budget), and writes the section "API server TLS" of
BENCHMARKS.md between markers, with the load average around each part. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.sections import replace_section
from chaoskit.controlplane.api_tls import ApiServerTls
from chaoskit.controlplane.launcher import MeshProcess

FIRST_PAGE_BUDGET_S = 3.0

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- api-tls:start -->"
END = "<!-- api-tls:end -->"


def measure(runs: int) -> list[float]:
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp)
        for _ in range(runs):
            began = time.perf_counter()
            tls = ApiServerTls.generate()
            tls.write(state_dir)
            tls.server_context(state_dir)
            seconds.append(time.perf_counter() - began)
    return seconds


def mesh_up_to_first_page(runs: int) -> list[float]:
    """Seconds from starting ``mesh up`` (built-in spec) to the first 200 from /productpage
    through the ingress gateway, with the API server on HTTPS, ``runs`` times."""
    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            began = time.monotonic()
            mesh = MeshProcess.start(Path(tmp) / "mesh")
            try:
                if not mesh.info.api_server.startswith("https://"):
                    raise SystemExit(f"the API server is not on HTTPS: {mesh.info.api_server}")
                url = f"{mesh.info.ingress_http}/productpage"
                deadline = began + 60
                while requests.get(url, timeout=10).status_code != 200:
                    if time.monotonic() > deadline:
                        raise SystemExit("no 200 from /productpage within 60 s of mesh up")
                    time.sleep(0.01)
                seconds.append(time.monotonic() - began)
            finally:
                mesh.stop()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api_tls")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--mesh-ups", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    seconds = sorted(measure(args.runs))
    load_before_ups = os.getloadavg()[0]
    ups = sorted(mesh_up_to_first_page(args.mesh_ups))
    load_after_ups = os.getloadavg()[0]
    verdict = "met" if ups[-1] <= FIRST_PAGE_BUDGET_S else "NOT met"
    lines = [
        START,
        "## API server TLS",
        "",
        f"Measured by `python -m benchmarks.api_tls` ({args.runs} runs; 1-minute load average "
        f"{load:.1f} before the run, on 2 cores shared with other work).",
        "",
        "| what | measured | budget |",
        "|---|---|---|",
        "| per mesh up: CA + serving certificate (P-256), written, loaded; p50 / max | "
        f"{statistics.median(seconds) * 1000:.1f} / {seconds[-1] * 1000:.1f} ms | "
        "part of ≤ 3 s to the first 200 |",
        "| mesh up (built-in spec, 17 pods, API server on HTTPS) → first 200 from /productpage "
        f"via the gateway; p50 / max of {len(ups)} | "
        f"{statistics.median(ups):.2f} / {ups[-1]:.2f} s | ≤ {FIRST_PAGE_BUDGET_S:g} s |",
        "",
        f"Mesh ups: 1-minute load average {load_before_ups:.1f} before, {load_after_ups:.1f} "
        f"after; budget {verdict} (by the slowest run).",
        END,
    ]
    section = "\n".join(lines)
    replace_section(args.out, section, START, END)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
