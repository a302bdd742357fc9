"""``python -m benchmarks.report``: render a large synthetic report and measure it.

The budget: 50 experiments with 100,000 per-second records in all render in at most 5 s
into at most 10 MB. With ``--chromium`` it also times a headless Chromium drawing every
chart. Nothing here is asserted; numbers are printed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from chaoskit.report import check_results, render_report

T0 = 1764054902.0


def _window(
    rng: random.Random, label: str, start: float, seconds: int, err: float, p99: float
) -> dict[str, Any]:
    series = []
    for i in range(seconds):
        n = rng.randint(40, 60)
        errors = sum(1 for _ in range(n) if rng.random() < err)
        p50 = p99 / 4 * rng.uniform(0.9, 1.1)
        series.append(
            {
                "t": start + i + 1,
                "n": n,
                "errors": errors,
                "p50": p50,
                "p99": p99 * rng.uniform(0.8, 1.3),
            }
        )
    n = sum(p["n"] for p in series)
    ok = n - sum(p["errors"] for p in series)
    return {
        "label": label,
        "start": start,
        "end": start + seconds,
        "load": {"model": "open", "users": None, "rate": 50.0, "duration_s": float(seconds)},
        "summary": {
            "n": n,
            "ok": ok,
            "success_rate": ok / n,
            "throughput_rps": n / seconds,
            "latency_s": {"p50": p99 / 4, "p90": p99 / 2, "p99": p99, "max": p99 * 1.5},
            "late": 0,
            "statuses": {"200": ok, "503": n - ok},
            "flags": {"-": ok, "UH": n - ok},
            "versions": {},
        },
        "series": series,
    }


def synthetic_results(
    experiments: int = 50, records: int = 100_000, seed: int = 1
) -> dict[str, Any]:
    """A schema-valid run whose series hold ``records`` points in all (1/4, 1/2, 1/4)."""
    rng = random.Random(seed)
    per = records // experiments
    out = []
    t = T0
    for e in range(experiments):
        base, fault = per // 4, per // 2
        recovery = per - base - fault
        windows = [
            _window(rng, "baseline", t, base, 0.0, 0.05),
            _window(rng, "during fault", t + base, fault, 0.05, 0.2),
            _window(rng, "recovery", t + base + fault, recovery, 0.001, 0.05),
        ]
        out.append(
            {
                "id": f"experiments/test_big.py::test_case[{e}]",
                "name": f"test_case[{e}]",
                "file": "experiments/test_big.py",
                "hypothesis": "Synthetic experiment for the report benchmark.",
                "outcome": ("held", "failed", "inconclusive", "error")[e % 4],
                "message": "",
                "started": t,
                "duration_s": float(per),
                "faults": [
                    {
                        "kind": "abort",
                        "description": "HTTP 503 on 5% of requests",
                        "target": "ratings.bookinfo",
                        "yaml": "apiVersion: networking.istio.io/v1\nkind: VirtualService\n",
                        "applied": t + base,
                        "removed": t + base + fault,
                        "proof": None,
                    }
                ],
                "windows": windows,
                "assertions": [],
                "ejections": [
                    {
                        "observer": "productpage-v1",
                        "cluster": "outbound|9080||reviews.bookinfo.svc.cluster.local",
                        "host": f"127.1.0.{h}:9080",
                        "start": t + base + 10 * h,
                        "end": t + base + 10 * h + 30,
                    }
                    for h in range(3)
                ],
                "stat_deltas": {"productpage-v1": {"upstream_rq_retry": 12}},
            }
        )
        t += per + 5
    return check_results(
        {
            "schema": "chaoskit.results/1",
            "run": {
                "id": "bench",
                "started": T0,
                "finished": t,
                "duration_s": t - T0,
                "interrupted": False,
                "mesh": {
                    "backend": "local",
                    "istio_version": "1.28",
                    "context": None,
                    "ingress": None,
                },
                "seed": seed,
                "duration_scale": 1.0,
                "chaoskit_version": "0.1.0",
                "git_commit": None,
                "python": "3.11",
                "argv": [],
            },
            "experiments": out,
        }
    )


def chromium_draw_seconds(page: Path) -> tuple[float, str]:
    """Wall time for headless Chromium to load ``page`` and dump its DOM, and the counter."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return float("nan"), "no chromium"
    started = time.perf_counter()
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--virtual-time-budget=30000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    marker = 'data-charts-drawn="'
    at = proc.stdout.find(marker)
    drawn = proc.stdout[at + len(marker) :].split('"', 1)[0] if at >= 0 else "?"
    return elapsed, drawn


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report")
    parser.add_argument("--experiments", type=int, default=50)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--chromium", action="store_true", help="also time Chromium drawing it")
    args = parser.parse_args()
    results = synthetic_results(args.experiments, args.records)
    started = time.perf_counter()
    page = render_report(results)
    render_s = time.perf_counter() - started
    size = len(page.encode("utf-8"))
    print(f"experiments: {args.experiments}, series records: {args.records}")
    print(f"render: {render_s:.2f} s (budget 5 s); size: {size / 1e6:.2f} MB (budget 10 MB)")
    if args.chromium:
        with tempfile.TemporaryDirectory(prefix="chaoskit-report-bench-") as tmp:
            path = Path(tmp) / "report.html"
            path.write_text(page, encoding="utf-8")
            seconds, drawn = chromium_draw_seconds(path)
        print(f"chromium load + draw: {seconds:.1f} s, charts drawn: {drawn}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
