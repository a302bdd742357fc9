"""Run a load profile in worker child processes and collect their records."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
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
from chaoskit.load.records import USER_NEVER_STARTED, RequestRecord, read_output
from chaoskit.platform_check import check_posix


class LoadError(BackendError):
    """The load generator failed (bad target, crash); the message has its last output."""


@dataclass
class LoadResult:
    profile: LoadProfile
    records: list[RequestRecord]
    started: float
    finished: float
    summaries: list[dict[str, Any]] = field(default_factory=list)
    # Distributed mode: the Locust master's aggregated totals ("requests", "failures"
    # for the profile's path), which must agree with the records.
    master: dict[str, Any] | None = None

    @property
    def cpu_s(self) -> float:
        return sum(float(s.get("cpu_s", 0.0)) for s in self.summaries)

    @property
    def csv_files(self) -> list[str]:
        """Locust's CSV files the workers (or the distributed master) wrote."""
        sources = [*self.summaries, *([self.master] if self.master else [])]
        return [str(name) for s in sources for name in s.get("csv_files") or []]


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


@dataclass
class _Child:
    name: str  # as the error messages say it: "load worker", "Locust master"
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return _tail(self.log.read_text(errors="replace"))


def _spawn(name: str, args: list[str], log: Path) -> _Child:
    check_posix("the load worker")
    env = _worker_env()
    with log.open("wb") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", *args], stdout=stream, stderr=subprocess.STDOUT, env=env
        )
    return _Child(name, process, log)


def _supervise(children: list[_Child], deadline: float, target: str) -> None:
    """Wait until every child exited with 0; the first that fails or overstays is the error
    (the caller kills the others)."""
    pending = list(children)
    while pending:
        for child in list(pending):
            code = child.process.poll()
            if code is None:
                continue
            pending.remove(child)
            if code != 0:
                raise LoadError(
                    f"the {child.name} failed (exit {code}) against {target}; "
                    f"last output:\n{child.output()}"
                )
        if pending and time.monotonic() > deadline:
            raise LoadError(
                f"the {pending[0].name} did not stop within its window; last output:\n"
                f"{pending[0].output()}"
            )
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _collect(
    profile: LoadProfile, children: list[_Child], outputs: list[Path]
) -> tuple[list[RequestRecord], list[dict[str, Any]]]:
    records: list[RequestRecord] = []
    summaries: list[dict[str, Any]] = []
    for child, out in zip(children, outputs, strict=True):
        part_records, summary = read_output(out)
        if not summary.get("done"):
            raise LoadError(
                f"the {child.name} failed against {profile.target}; last output:\n{child.output()}"
            )
        # A process whose users all failed (a refused login) is an error of its own.
        _users_failed(summary.get("user_errors") or [], part_records)
        records.extend(part_records)
        summaries.append(summary)
    return records, summaries


def _users_failed(failures: list[str], records: list[RequestRecord]) -> None:
    # Open model: a user that never started leaves its slots as records of that.
    if failures and all(r.error.startswith(USER_NEVER_STARTED) for r in records):
        raise LoadError(f"the load worker's users failed: {'; '.join(failures)}")


def _run_independent(
    profile: LoadProfile, directory: Path, children: list[_Child], moves: list[tuple[Path, Path]]
) -> tuple[list[RequestRecord], list[dict[str, Any]]]:
    outputs = []
    parts = profile.split()
    for index, part in enumerate(parts):
        spec = directory / f"load-{index}.json"
        out = directory / f"load-{index}.jsonl"
        log = directory / f"load-{index}.log"
        spec.write_text(json.dumps(part.to_json()))
        out.unlink(missing_ok=True)
        outputs.append(out)
        # Only for one worker: parts must start together, and a spare starts first.
        spare = _take_spare(spec, out, _worker_env()) if len(parts) == 1 else None
        if spare is not None:
            children.append(_Child("load worker", spare.process, spare.log))
            moves.append((spare.log, log))  # its log ends up where the window's belongs
            continue
        args = ["chaoskit.load.worker", str(spec), str(out)]
        children.append(_spawn("load worker", args, log))
    deadline = time.monotonic() + profile.duration_s + profile.timeout_s + 60
    _supervise(children, deadline, profile.target)
    return _collect(profile, children, outputs)


def _run_distributed(
    profile: LoadProfile,
    directory: Path,
    children: list[_Child],
    *,
    start_workers: int | None = None,
    worker_port: int | None = None,
) -> tuple[list[RequestRecord], list[dict[str, Any]], dict[str, Any]]:
    """One Locust master and ``profile.processes`` workers on loopback.

    Each worker's spec is its ``split()`` share, so the open model's rate share reaches it
    in the file it starts from, not in a message. ``start_workers`` and ``worker_port``
    exist for tests: a master that never sees all its workers, a worker that cannot
    reach its master.
    """
    port = _free_port()
    spec = directory / "master.json"
    spec.write_text(json.dumps(profile.to_json()))
    master_out = directory / "master.out.json"
    master_out.unlink(missing_ok=True)
    workers = profile.processes
    args = ["chaoskit.load.master", str(spec), str(master_out), str(port), str(workers)]
    children.append(_spawn("Locust master", args, directory / "master.log"))
    outputs = []
    for index, part in enumerate(profile.split()[: start_workers or workers]):
        spec = directory / f"load-{index}.json"
        out = directory / f"load-{index}.jsonl"
        spec.write_text(json.dumps(part.to_json()))
        out.unlink(missing_ok=True)
        args = [
            "chaoskit.load.worker",
            str(spec),
            str(out),
            f"--master=127.0.0.1:{worker_port or port}",
            f"--index={index}",
            f"--workers={workers}",
        ]
        children.append(_spawn(f"load worker {index}", args, directory / f"load-{index}.log"))
        outputs.append(out)
    deadline = (
        time.monotonic()
        + profile.connect_timeout_s
        + profile.duration_s
        + 2 * profile.timeout_s
        + 60
    )
    _supervise(children, deadline, profile.target)
    records, summaries = _collect(profile, children[1:], outputs)
    try:
        master = json.loads(master_out.read_text())
    except (OSError, ValueError):
        master = {}
    if not master.get("done"):
        raise LoadError(f"the Locust master wrote no totals; last output:\n{children[0].output()}")
    # Users run in whichever worker Locust gave them; their errors reach the master.
    _users_failed(master.get("user_errors") or [], records)
    return records, summaries, master


def run_load(profile: LoadProfile, workdir: Path | None = None) -> LoadResult:
    """Send ``profile``'s load and return every request's record, in send order.

    Each worker process gets its share of users and rate (from the parent, or from a
    Locust master with ``distributed=True``); all of them stop by themselves (window end,
    then a hard stop), and the parent kills any that overstay.
    """
    owned = workdir is None
    directory = Path(tempfile.mkdtemp(prefix="chaoskit-load-")) if owned else workdir
    assert directory is not None
    directory = directory.resolve()  # a spare worker may run in another directory
    directory.mkdir(parents=True, exist_ok=True)
    children: list[_Child] = []
    moves: list[tuple[Path, Path]] = []  # a spare's log -> the window's log
    master: dict[str, Any] | None = None
    started = time.time()
    try:
        if profile.distributed:
            records, summaries, master = _run_distributed(profile, directory, children)
        else:
            records, summaries = _run_independent(profile, directory, children, moves)
    finally:
        for child in children:
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()
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
    return LoadResult(profile, records, started, time.time(), summaries, master)
