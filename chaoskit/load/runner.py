"""Run a load profile in worker child processes and collect their records."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
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


@dataclass
class _Spare:
    """A worker started ahead of its window: importing Locust takes about a second, which
    it spends while the caller judges the last window and sets up the next one."""

    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    cwd: str


_spare: _Spare | None = None
_spare_lock = threading.Lock()


def _worker_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    # pytest changes this one for every test phase; the worker never reads it.
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def _start_spare() -> None:
    global _spare
    with _spare_lock:
        if _spare is not None:
            return
        fd, name = tempfile.mkstemp(prefix="chaoskit-load-spare-", suffix=".log")
        env = _worker_env()
        with os.fdopen(fd, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "chaoskit.load.worker", "--wait"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        _spare = _Spare(process, Path(name), env, os.getcwd())


def _take_spare(spec: Path, out: Path, env: dict[str, str]) -> _Spare | None:
    """The spare, handed ``spec`` and ``out``; None if there is none fit to use."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    # A spare started elsewhere (another cwd or environment) would not be the worker asked for.
    fit = spare.env == env and spare.cwd == os.getcwd() and spare.process.poll() is None
    if fit:
        assert spare.process.stdin is not None
        try:
            spare.process.stdin.write(json.dumps([str(spec), str(out)]).encode() + b"\n")
            spare.process.stdin.close()
            return spare
        except OSError:
            pass
    _discard(spare)
    return None


def _discard(spare: _Spare) -> None:
    if spare.process.poll() is None:
        spare.process.kill()
    spare.process.wait()
    if spare.process.stdin is not None:
        with contextlib.suppress(OSError):
            spare.process.stdin.close()
    spare.log.unlink(missing_ok=True)


@atexit.register
def _stop_spare() -> None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None:
        _discard(spare)


def run_load(profile: LoadProfile, workdir: Path | None = None) -> LoadResult:
    """Send ``profile``'s load and return every request's record, in send order.

    Each worker process gets its share of users and rate; all of them stop by themselves
    (window end, then a hard stop), and the parent kills any that overstay.
    """
    owned = workdir is None
    directory = Path(tempfile.mkdtemp(prefix="chaoskit-load-")) if owned else workdir
    assert directory is not None
    directory = directory.resolve()  # a spare worker may run in another directory
    directory.mkdir(parents=True, exist_ok=True)
    env = _worker_env()
    workers: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
    moves: list[tuple[Path, Path]] = []  # a spare's log -> the window's log
    started = time.time()
    try:
        parts = profile.split()
        for index, part in enumerate(parts):
            spec = directory / f"load-{index}.json"
            out = directory / f"load-{index}.jsonl"
            log = directory / f"load-{index}.log"
            spec.write_text(json.dumps(part.to_json()))
            out.unlink(missing_ok=True)
            # Only for one worker: parts must start together, and a spare starts first.
            spare = _take_spare(spec, out, env) if len(parts) == 1 else None
            if spare is not None:
                workers.append((spare.process, out, spare.log))
                moves.append((spare.log, log))
                continue
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
        for source, target in moves:
            with contextlib.suppress(OSError):
                shutil.move(source, target)
        if owned:
            with contextlib.suppress(OSError):
                shutil.rmtree(directory)
        _start_spare()
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
