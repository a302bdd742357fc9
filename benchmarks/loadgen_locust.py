"""``python -m benchmarks.loadgen_locust``: chaoskit's load worker, measured, and the
section "Load generator and report" of BENCHMARKS.md.

- Open loop: 2,000 requests/s from one worker process for 10 s against the direct
  reference server; budget: under 1% of requests sent more than 10 ms after their slot.
- The same open loop from Locust's distributed mode: a master and 2 workers
  (``distributed=True, processes=2``), 1,000 requests/s each; same budget, and the
  master's aggregated request count must equal the records.
- Closed loop: Locust's FastHttpUser as fast as it goes (10 users, one process), the
  reference the open model is compared with, in the same run.
- A user class (``benchmarks/locustfiles/three_tasks.py``, three weighted tasks): its open
  loop at 1,000 requests/s from one worker, same budget; and its closed loop as fast as it
  goes through chaoskit (recorded through ``events.request``) against the same class run by
  ``locust`` itself (no hook), for the recording's cost (budget: at most 10%).
- The HTML report of 50 experiments with 100,000 series records (``benchmarks.report``).

Nothing is asserted; the numbers are written into BENCHMARKS.md between markers, which
``python -m benchmarks`` keeps.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.report import synthetic_results
from benchmarks.sections import replace_section
from chaoskit.load import LoadProfile, LoadResult, run_load
from chaoskit.load.records import IN_FLIGHT_AT_STOP
from chaoskit.report import render_report

ROOT = Path(__file__).resolve().parent.parent
THREE_TASKS = ROOT / "benchmarks" / "locustfiles" / "three_tasks.py"
USER_CLASS_RATE = 1000.0
START = "<!-- load-generator:start -->"
END = "<!-- load-generator:end -->"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def section(rows: list[tuple[str, str, str]], note: str, load: tuple[float, float]) -> str:
    lines = [
        START,
        "## Load generator and report",
        "",
        f"Measured by `python -m benchmarks.loadgen_locust` on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores; 1-minute load average {load[0]:.1f} before the run, "
        f"{load[1]:.1f} after), against the direct reference server (no sidecar).",
        "",
        "| what | measured | budget |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        note,
        END,
    ]
    return "\n".join(lines)


def open_rows(
    result: LoadResult, label: str, rate: float, duration: float
) -> tuple[list[tuple[str, str, str]], bool]:
    """The open-loop rows for one run, and whether it met the budget."""
    intended = int(rate * duration)
    late = sum(1 for r in result.records if r.late_s > 0.010)
    sent = sum(1 for r in result.records if not r.error.startswith("not sent"))
    lateness = [r.late_s for r in result.records]
    window = result.finished - result.started
    workers = len(result.summaries)
    rows = [
        (
            f"open loop, {rate:,.0f} rps for {duration:g} s, {label}: sent / intended",
            f"{sent:,} / {intended:,} (window {window:.1f} s incl. start-up)",
            "all",
        ),
        (
            "…sent more than 10 ms after their slot",
            f"{late / max(intended, 1):.2%} ({late})",
            "< 1%",
        ),
        (
            "…lateness p50 / p99 / max",
            f"{percentile(lateness, 0.5) * 1000:.2f} / {percentile(lateness, 0.99) * 1000:.2f} / "
            f"{max(lateness, default=0) * 1000:.1f} ms",
            "-",
        ),
        (
            "…worker CPU" if workers == 1 else f"…worker CPU, {workers} workers together",
            f"{result.cpu_s / duration:.2f} cores",
            "-",
        ),
    ]
    return rows, late / max(intended, 1) < 0.01 and sent == intended


def start_plain_locust(target: str, users: int, duration: float) -> subprocess.Popen[str]:
    """Locust itself (its local runner, no chaoskit hook) running the same user class as fast
    as it goes, started and left running (:func:`plain_locust_result` reads it)."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.plain_locust",
        str(THREE_TASKS),
        target,
        str(users),
        f"{duration:g}",
    ]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )


def plain_locust_result(process: subprocess.Popen[str], duration: float) -> tuple[int, float]:
    """Its request count and its CPU seconds over the same span as the worker's."""
    import json

    out, _ = process.communicate(timeout=duration + 60)
    if process.returncode != 0:
        raise RuntimeError(f"benchmarks.plain_locust exited {process.returncode}")
    measured = json.loads(out.strip().splitlines()[-1])
    return int(measured["requests"]), float(measured["cpu_s"])


@dataclass
class RecordingCost:
    """The same user class closed-loop, chaoskit (hooked) and plain Locust, run side by side
    against the same server. The machine's speed drifts between runs by more than the cost
    measured (one after the other, plain Locust alone took 148 to 184 µs per request in five
    runs on a quiet 2-core VM), while two runs at the same time see the same machine (two
    plain ones side by side differed by 3 to 5%). Each pair gives its own cost and the
    median pair is the figure."""

    hooked_rps: float = 0.0
    plain_rps: float = 0.0
    hooked_cpu: list[float] = field(default_factory=list)  # CPU seconds per request, per pair
    plain_cpu: list[float] = field(default_factory=list)

    def measure(self, target: str, duration: float, pairs: int) -> None:
        own: dict[str, Any] = {
            "duration": duration,
            "locustfile": str(THREE_TASKS),
            "detect_version": False,  # as the path loads above: the hook's cost alone
        }
        for _ in range(pairs):
            # Plain Locust first: its imports take about as long as the worker's start.
            plain = start_plain_locust(target, 10, duration)
            hooked = run_load(LoadProfile.build(target, users=10, **own))
            requests, cpu = plain_locust_result(plain, duration)
            answered = sum(1 for r in hooked.records if r.status)
            self.hooked_rps = max(self.hooked_rps, answered / duration)
            self.hooked_cpu.append(hooked.cpu_s / max(answered, 1))
            self.plain_rps = max(self.plain_rps, requests / duration)
            self.plain_cpu.append(cpu / max(requests, 1))

    @property
    def costs(self) -> list[float]:
        """Per pair, the throughput lost to recording for a worker bound by its CPU:
        1 - plain/hooked CPU per request."""
        pairs = zip(self.hooked_cpu, self.plain_cpu, strict=True)
        return sorted(1 - plain / hooked for hooked, plain in pairs)

    @property
    def cost(self) -> float:
        return statistics.median(self.costs) if self.costs else float("nan")

    def row(self) -> tuple[str, str, str]:
        pairs = ", ".join(f"{c:.1%}" for c in self.costs)
        return (
            "closed loop, the same user class × 10 as fast as it goes, chaoskit (recorded "
            "through events.request) / locust itself (no hook), side by side in pairs: "
            "best rps, median CPU per request",
            f"{self.hooked_rps:,.0f} / {self.plain_rps:,.0f} rps; "
            f"{statistics.median(self.hooked_cpu) * 1e6:.0f} / "
            f"{statistics.median(self.plain_cpu) * 1e6:.0f} µs CPU per request; recording "
            f"costs {self.cost:.1%} of a CPU-bound worker's throughput (median of the "
            f"pairs: {pairs})",
            "≤ 10%",
        )


def user_class_only(target: str, duration: float, pairs: int) -> str:
    """Only the user-class rows (``--user-class-only``): printed, not written."""
    mixed = run_load(
        LoadProfile.build(
            target,
            model="open",
            rate=USER_CLASS_RATE,
            users=10,
            duration=duration,
            locustfile=str(THREE_TASKS),
        )
    )
    rows, _ = open_rows(
        mixed, "a user class with 3 weighted tasks, one worker", USER_CLASS_RATE, duration
    )
    cost = RecordingCost()
    cost.measure(target, duration, pairs)
    return "\n".join(f"| {a} | {b} | {c} |" for a, b, c in [*rows, cost.row()])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen_locust")
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--pairs", type=int, default=5, help="hooked/plain runs, alternating")
    parser.add_argument(
        "--user-class-only",
        action="store_true",
        help="only the user-class rows, printed (BENCHMARKS.md untouched)",
    )
    args = parser.parse_args()
    # Other work on the machine shows in every row: the section says how busy it was.
    load = os.getloadavg()[0]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.refserver", str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        target = f"http://127.0.0.1:{port}"
        if args.user_class_only:
            print(f"load average before: {load:.1f}")
            print(user_class_only(target, args.duration, args.pairs))
            print(f"load average after: {os.getloadavg()[0]:.1f}")
            return 0
        common: dict[str, Any] = {"path": "/", "duration": args.duration, "detect_version": False}
        opened = run_load(LoadProfile.build(target, model="open", rate=args.rate, **common))
        spread = run_load(
            LoadProfile.build(
                target, model="open", rate=args.rate, processes=2, distributed=True, **common
            )
        )
        closed = run_load(LoadProfile.build(target, users=10, **common))
        own: dict[str, Any] = {"duration": args.duration, "locustfile": str(THREE_TASKS)}
        mixed = run_load(
            LoadProfile.build(target, model="open", rate=USER_CLASS_RATE, users=10, **own)
        )
        recording = RecordingCost()
        recording.measure(target, args.duration, args.pairs)
    finally:
        server.terminate()
        server.wait()
    closed_rps = sum(1 for r in closed.records if r.status) / args.duration
    results = synthetic_results(50, 100_000)
    started = time.perf_counter()
    page = render_report(results)
    render_s = time.perf_counter() - started
    one_rows, one_ok = open_rows(opened, "one worker", args.rate, args.duration)
    spread_rows, spread_ok = open_rows(
        spread, "Locust master + 2 distributed workers", args.rate, args.duration
    )
    assert spread.master is not None
    # Locust never hears of a request not sent, or one still in flight when the load stopped.
    counted = sum(
        1
        for r in spread.records
        if not r.error.startswith("not sent") and r.error != IN_FLIGHT_AT_STOP
    )
    spread_ok = spread_ok and spread.master["requests"] == counted
    mixed_rows, mixed_ok = open_rows(
        mixed, "a user class with 3 weighted tasks, one worker", USER_CLASS_RATE, args.duration
    )
    rows = [
        *one_rows,
        *spread_rows,
        (
            "…the master's Locust request count / completed requests in the records",
            f"{spread.master['requests']:,} / {counted:,}",
            "equal",
        ),
        (
            "closed loop, Locust FastHttpUser × 10 as fast as it goes, one worker",
            f"{closed_rps:,.0f} rps (worker CPU {closed.cpu_s / args.duration:.2f} cores)",
            "reference",
        ),
        *mixed_rows,
        recording.row(),
        (
            "HTML report, 50 experiments, 100,000 series records: render time / size",
            f"{render_s:.2f} s / {len(page.encode()) / 1e6:.2f} MB",
            "≤ 5 s / ≤ 10 MB",
        ),
    ]
    verdict = (
        "Open-loop budget met in this run, with one worker and with two distributed ones."
        if one_ok and spread_ok
        else f"Open-loop budget missed in this run (one worker: {'met' if one_ok else 'missed'}; "
        f"distributed: {'met' if spread_ok else 'missed'}). The reference server and the load "
        "processes share two cores with anything else running."
    )
    verdict += (
        f" User class: open loop {'met' if mixed_ok else 'missed'}, recording cost "
        f"{'within' if recording.cost <= 0.10 else 'over'} its budget."
    )
    text = section(rows, verdict, (load, os.getloadavg()[0]))
    replace_section(args.out, text, START, END)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
