"""Run a load profile in worker child processes and collect their records."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit.errors import BackendError
from chaoskit.load.profile import LoadProfile
from chaoskit.load.records import RequestRecord, read_output


class LoadError(BackendError):
    """The load generator failed (bad target, crash); the message has its last output."""


@dataclass
class LoadResult:
    profile: LoadProfile
    records: list[RequestRecord]
    started: float
    finished: float
    summaries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cpu_s(self) -> float:
        return sum(float(s.get("cpu_s", 0.0)) for s in self.summaries)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_load(profile: LoadProfile, workdir: Path | None = None) -> LoadResult:
    """Send ``profile``'s load and return every request's record, in send order.

    Each worker process gets its share of users and rate; all of them stop by themselves
    (window end, then a hard stop), and the parent kills any that overstay.
    """
    owned = workdir is None
    directory = Path(tempfile.mkdtemp(prefix="chaoskit-load-")) if owned else workdir
    assert directory is not None
    directory.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    workers: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
    started = time.time()
    try:
        for index, part in enumerate(profile.split()):
            spec = directory / f"load-{index}.json"
            out = directory / f"load-{index}.jsonl"
            log = directory / f"load-{index}.log"
            spec.write_text(json.dumps(part.to_json()))
            out.unlink(missing_ok=True)
            with log.open("wb") as log_stream:
                process = subprocess.Popen(
                    [sys.executable, "-m", "chaoskit.load.worker", str(spec), str(out)],
                    stdout=log_stream,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            workers.append((process, out, log))
        deadline = time.monotonic() + profile.duration_s + profile.timeout_s + 60
        records: list[RequestRecord] = []
        summaries: list[dict[str, Any]] = []
        for process, out, log in workers:
            try:
                code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise LoadError(
                    f"the load worker did not stop within its window; last output:\n"
                    f"{_tail(log.read_text(errors='replace'))}"
                ) from None
            part_records, summary = read_output(out)
            if code != 0 or not summary.get("done"):
                raise LoadError(
                    f"the load worker failed (exit {code}) against {profile.target}; "
                    f"last output:\n{_tail(log.read_text(errors='replace'))}"
                )
            failures = summary.get("user_errors") or []
            if failures and not part_records:
                raise LoadError(f"the load worker's users failed: {'; '.join(failures)}")
            records.extend(part_records)
            summaries.append(summary)
    finally:
        for process, _, _ in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
        if owned:
            import shutil

            with contextlib.suppress(OSError):
                shutil.rmtree(directory)
    records.sort(key=lambda r: r.intended)
    unreachable = ("refused", "gaierror", "not known", "No route to host")
    if records and all(r.status == 0 and any(u in r.error for u in unreachable) for r in records):
        # Every request failed to connect: the target is wrong, not a hung service (whose
        # timeouts are an observation the experiment must see).
        errors = sorted({r.error for r in records})
        raise LoadError(
            f"no request got an HTTP reply from {profile.target}{profile.path} "
            f"({len(records)} sent): {'; '.join(errors[:3])}. Is the target up and the port right?"
        )
    return LoadResult(profile, records, started, time.time(), summaries)
