"""``python -m benchmarks.api_tls``: what HTTPS on the embedded API server adds to mesh up.

Each mesh up makes a CA and a serving certificate (P-256), writes them and loads them into
an SSL context before the API server listens. This measures that step alone, repeated, and
writes the section "API server TLS" of BENCHMARKS.md between markers. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from chaoskit.controlplane.api_tls import ApiServerTls

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


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api_tls")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    seconds = sorted(measure(args.runs))
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
        END,
    ]
    section = "\n".join(lines)
    previous = args.out.read_text() if args.out.exists() else ""
    if START in previous and END in previous:
        head, _, rest = previous.partition(START)
        _, _, tail = rest.partition(END)
        updated = head + section + tail
    else:
        updated = previous.rstrip("\n") + "\n\n" + section + "\n"
    args.out.write_text(updated)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
