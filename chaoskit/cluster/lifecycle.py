"""``chaoskit cluster up | down | status``: run the plan, delete only our own cluster, report.

Ownership: ``up`` labels the new cluster's kube-system namespace
(``chaoskit.dev/created-by=chaoskit-cluster-up``) and writes ``cluster.json`` in the state
directory. ``down`` deletes the cluster only when the label says chaoskit created it (it
survives a wiped home directory), or, when the cluster cannot be asked, when the file
names it (it survives a cluster too broken to answer). A cluster that answers without the
label is never deleted, whatever an old ``cluster.json`` says: somebody else may have made
a kind cluster under the same name since.

Everything that touches the outside world (commands, HTTP, the context guard, the clock) is
injected, so the tests drive the real code with fakes.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from chaoskit.cluster import pins, tools
from chaoskit.cluster.plan import (
    BASE_RESOURCES,
    Step,
    TlsSecret,
    default_resources_dir,
    render,
    up_plan,
)
from chaoskit.errors import BackendError, ConfigError

STATE_FILE = "cluster.json"
OUTPUT_TAIL = 25


@dataclass(frozen=True, slots=True)
class RunResult:
    returncode: int
    output: str  # streamed steps: the tail of stdout and stderr; quiet queries: stdout
    timed_out: bool = False
    stderr: str = ""  # quiet queries only


Runner = Callable[[Sequence[str], float], RunResult]
Fetch = Callable[[str, float], tuple[int, str]]
GuardFn = Callable[[str], str]


class StepFailed(BackendError):
    """A step of ``cluster up`` failed; the message has its output and the next step."""


def run_command(argv: Sequence[str], timeout_s: float, echo: TextIO | None = None) -> RunResult:
    """Run a command, echoing its output indented, and keep the tail for error messages."""
    tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL)
    try:
        process = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        return RunResult(127, f"cannot start {argv[0]}: {exc}")

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line.rstrip("\n"))
            if echo is not None:
                echo.write(f"      {line}" if line.endswith("\n") else f"      {line}\n")
                echo.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        reader.join(5)
        return RunResult(-9, "\n".join(tail), timed_out=True)
    reader.join(5)
    return RunResult(code, "\n".join(tail))


def run_quiet(argv: Sequence[str], timeout_s: float) -> RunResult:
    """Run a query; stdout is its answer, stderr is kept apart for the error message."""
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return RunResult(-9, "", timed_out=True, stderr=f"timed out after {timeout_s:g}s")
    except OSError as exc:
        return RunResult(127, "", stderr=f"cannot start {argv[0]}: {exc}")
    return RunResult(done.returncode, done.stdout, stderr=done.stderr)


def http_get(url: str, timeout_s: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


def printed_version(output: str) -> str | None:
    """The version ``istioctl version --remote=false`` printed: a line that is just the
    version, or ``client version: X`` (older releases)."""
    match = re.search(r"(?m)^\s*(?:client version:\s*)?v?(\d+\.\d+\.\d+\S*)\s*$", output)
    return match.group(1) if match else None


def default_guard(context: str) -> str:
    from chaoskit.cluster.guard import verify

    return verify(None, context).describe()


@dataclass
class Cluster:
    """The kind cluster named in :mod:`chaoskit.cluster.pins`, driven through its CLIs."""

    state_dir: Path
    out: TextIO = field(default_factory=lambda: sys.stdout)
    runner: Runner | None = None
    fetch: Fetch = http_get
    guard: GuardFn = default_guard
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    path: str | None = None  # PATH to find the tools on (default: the environment's)

    # --- helpers -----------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _run(self, argv: Sequence[str], timeout_s: float) -> RunResult:
        if self.runner is not None:
            return self.runner(argv, timeout_s)
        return run_command(argv, timeout_s, echo=self.out)

    def _quiet(self, argv: Sequence[str], timeout_s: float = 60.0) -> RunResult:
        if self.runner is not None:
            return self.runner(argv, timeout_s)
        return run_quiet(argv, timeout_s)

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    def _clusters(self) -> list[str]:
        result = self._quiet(("kind", "get", "clusters"))
        if result.returncode != 0:
            raise BackendError(
                f"`kind get clusters` failed (exit {result.returncode}): "
                f"{(result.stderr or result.output).strip()}; "
                "is Docker running (`docker info`)?"
            )
        return [line.strip() for line in result.output.splitlines() if line.strip()]

    def _owner_label(self) -> str | None:
        result = self._quiet(
            (
                "kubectl",
                "--context",
                pins.CONTEXT,
                "get",
                "namespace",
                "kube-system",
                "-o",
                "jsonpath={.metadata.labels." + pins.OWNER_LABEL.replace(".", "\\.") + "}",
            ),
            30.0,
        )
        return result.output.strip() if result.returncode == 0 else None

    def _state_says_ours(self) -> bool:
        try:
            data = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("cluster") == pins.CLUSTER_NAME

    def _write_state(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(
            json.dumps(
                {
                    "cluster": pins.CLUSTER_NAME,
                    "context": pins.CONTEXT,
                    "istioVersion": pins.istio_version(),
                    "nodeImage": pins.KIND_NODE_IMAGE,
                    "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                },
                indent=1,
            )
        )

    # --- up ----------------------------------------------------------------------------------

    def up(
        self,
        *,
        dry_run: bool = False,
        use_existing: bool = False,
        resources_dir: Path | None = None,
        ambient: bool = False,
    ) -> int:
        resources = resources_dir or default_resources_dir()
        steps = up_plan(resources_dir=resources, create=not use_existing, ambient=ambient)
        if dry_run:
            self.out.write(render(steps))
            return 0
        for name in BASE_RESOURCES:
            if not (resources / name).is_file():
                raise ConfigError(
                    f"{resources / name} does not exist; pass "
                    f"--resources DIR (the folder with {', '.join(BASE_RESOURCES)})"
                )
        needed = ["kind", "kubectl", "istioctl"] + ([] if use_existing else ["docker"])
        tools.find(needed, self.path)
        existing = pins.CLUSTER_NAME in self._clusters()
        if use_existing and not existing:
            raise BackendError(
                f"--use-existing, but there is no kind cluster named {pins.CLUSTER_NAME}; "
                "create one with `chaoskit cluster up`"
            )
        if not use_existing and existing:
            raise BackendError(
                f"a kind cluster named {pins.CLUSTER_NAME} exists already; "
                "`chaoskit cluster up --use-existing` installs Istio and Bookinfo onto it, "
                "`chaoskit cluster down` deletes it if chaoskit created it"
            )
        started = self.clock()
        total = len(steps)
        for number, step in enumerate(steps, 1):
            self._say(f"[{number}/{total}] {step.name}")
            self._say(f"      $ {step.command_line()}")
            began = self.clock()
            self._execute(step, number, total)
            if step.argv[:3] == ("kind", "create", "cluster"):
                self._write_state()
            self._say(f"      ok ({self.clock() - began:.1f}s)")
        self._say(
            f"cluster up: Bookinfo answers on {pins.PRODUCTPAGE_URL}, the demo services in "
            f"namespace {pins.DEMO_NAMESPACE} through {pins.FORTIO_URL} "
            f"(context {pins.CONTEXT}, {self.clock() - started:.0f}s).\n"
            f"Run the game day: pytest experiments/ --mesh kind --kube-context {pins.CONTEXT}"
        )
        return 0

    def _execute(self, step: Step, number: int, total: int) -> None:
        where = f"step {number}/{total} ({step.name})"
        if step.guard_context is not None:
            try:
                self._say(f"      {self.guard(step.guard_context)}")
            except BackendError as exc:
                raise StepFailed(f"{where} failed: {exc}\nnext: {step.hint}") from None
            return
        if step.http is not None:
            self._poll(step, where)
            return
        if step.tls_secret is not None:
            self._apply_secret(step, step.tls_secret, where)
            return
        self._run_step(step, step.argv, where)

    def _apply_secret(self, step: Step, secret: TlsSecret, where: str) -> None:
        """Make the certificate and hand the Secret to kubectl in a file only this user can
        read, removed afterwards; the command line and output never carry the key."""
        from chaoskit.controlplane.certificates import tls_secret

        body = tls_secret(secret.name, secret.namespace, list(secret.hosts), days=secret.days)
        with tempfile.TemporaryDirectory(prefix="chaoskit-tls-") as folder:
            manifest = Path(folder) / f"{secret.name}.json"
            descriptor = os.open(manifest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                json.dump(body, out)
            self._run_step(step, secret.apply_argv(manifest), where)

    def _run_step(self, step: Step, argv: Sequence[str], where: str) -> None:
        attempts = step.retries + 1
        result = RunResult(0, "")
        for attempt in range(1, attempts + 1):
            result = self._run(argv, step.timeout_s)
            if result.returncode == 0:
                if step.expect_version is not None:
                    self._check_version(step, where, result.output)
                return
            if attempt < attempts:
                delay = min(5.0 * attempt, 20.0)
                self._say(
                    f"      exit {result.returncode}; retrying in {delay:g}s "
                    f"({attempt}/{step.retries} retries)"
                )
                self.sleep(delay)
        how = (
            f"timed out after {step.timeout_s:g}s"
            if result.timed_out
            else f"exited with {result.returncode}"
        )
        tries = f" after {attempts} tries" if attempts > 1 else ""
        output = "\n".join(f"    {line}" for line in result.output.splitlines()[-OUTPUT_TAIL:])
        raise StepFailed(
            f"{where} {how}{tries}:\n  $ {step.command_line()}\n"
            + (f"{output}\n" if output else "")
            + f"next: {step.hint or 'fix the cause, then run `chaoskit cluster up --use-existing`'}"
        )

    def _check_version(self, step: Step, where: str, output: str) -> None:
        found = printed_version(output)
        if found == step.expect_version:
            return
        what = (
            f"prints version {found}"
            if found
            else "printed no version (" + (" ".join(output.split())[:200] or "nothing") + ")"
        )
        raise StepFailed(
            f"{where} failed: `{step.command_line()}` {what}, but chaoskit installs Istio "
            f"{step.expect_version}; istioctl installs its own version, so another one would "
            f"install a different Istio than the experiments expect\nnext: {step.hint}; then run "
            "the same `chaoskit cluster up` again"
        )

    def _poll(self, step: Step, where: str) -> None:
        assert step.http is not None
        deadline = self.clock() + step.timeout_s
        last = "no answer yet"
        while True:
            try:
                status, body = self.fetch(step.http.url, 10.0)
                if status == 200 and step.http.expect in body:
                    return
                last = f"HTTP {status}" + ("" if status != 200 else f" without {step.http.expect}")
            except OSError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if self.clock() >= deadline:
                raise StepFailed(
                    f"{where}: {step.http.url} did not serve {step.http.expect} within "
                    f"{step.timeout_s:g}s (last: {last})\nnext: {step.hint}"
                )
            self.sleep(step.http.interval_s)

    # --- down ---------------------------------------------------------------------------------

    def _owned(self) -> tuple[bool, str]:
        """Whether chaoskit created the cluster, and why not. The label decides whenever the
        cluster answers; ``cluster.json`` only when it cannot be asked (it may be left from
        an earlier cluster of the same name that someone else has since replaced)."""
        label = self._owner_label()
        if label == pins.OWNER_VALUE:
            return True, ""
        mark = f"{pins.OWNER_LABEL}={pins.OWNER_VALUE}"
        if label is not None:
            stale = (
                f"; {self.state_file} names it, but that file counts only when the cluster "
                "cannot be asked, and this one answers"
                if self._state_says_ours()
                else ""
            )
            return False, f"it answers, and its kube-system namespace has no {mark} label{stale}"
        if self._state_says_ours():
            return True, ""
        return False, f"it does not answer, and {self.state_file} does not name it"

    def _check_ownership(self) -> None:
        owned, why = self._owned()
        if not owned:
            raise BackendError(
                f"refusing to delete kind cluster {pins.CLUSTER_NAME}: chaoskit did not create "
                f"it ({why}). If it is yours to delete: "
                f"kind delete cluster --name {pins.CLUSTER_NAME}"
            )

    def down(self) -> int:
        tools.find(["kind", "kubectl"], self.path)
        if pins.CLUSTER_NAME not in self._clusters():
            self._say(f"cluster down: there is no kind cluster named {pins.CLUSTER_NAME}")
            self.state_file.unlink(missing_ok=True)
            return 0
        self._check_ownership()
        argv = ("kind", "delete", "cluster", "--name", pins.CLUSTER_NAME)
        self._say(f"$ {' '.join(argv)}")
        result = self._run(argv, 300.0)
        if result.returncode != 0:
            raise BackendError(
                f"`{' '.join(argv)}` exited with {result.returncode}: {result.output.strip()}"
            )
        self.state_file.unlink(missing_ok=True)
        self._say(f"cluster down: deleted kind cluster {pins.CLUSTER_NAME}")
        return 0

    # --- status ------------------------------------------------------------------------------

    def status(self) -> int:
        """Print what is there; exit 0 only when every Deployment (Istio, Bookinfo, the demo
        workloads) is ready and Bookinfo answers behind the ingress."""
        healthy = True
        try:
            found = tools.find(["kind", "kubectl", "istioctl"], self.path)
            self._say("tools: " + ", ".join(f"{n} {p}" for n, p in found.items()))
        except tools.MissingTool as exc:
            self._say(str(exc))
            return 1
        if pins.CLUSTER_NAME not in self._clusters():
            self._say(f"cluster: no kind cluster named {pins.CLUSTER_NAME} (`chaoskit cluster up`)")
            return 1
        owner = (
            "created by chaoskit"
            if self._owned()[0]
            else "not created by chaoskit (`cluster down` will not delete it)"
        )
        self._say(f"cluster: {pins.CLUSTER_NAME}, context {pins.CONTEXT}, {owner}")
        try:
            self._say(f"guard: {self.guard(pins.CONTEXT)}")
        except BackendError as exc:
            self._say(f"guard: {exc}")
            healthy = False
        for namespace in (pins.ISTIO_NAMESPACE, pins.BOOKINFO_NAMESPACE, pins.DEMO_NAMESPACE):
            healthy &= self._deployments(namespace)
        try:
            code, body = self.fetch(pins.PRODUCTPAGE_URL, 10.0)
            ok = code == 200 and pins.PRODUCTPAGE_TITLE in body
            self._say(
                f"ingress: {pins.PRODUCTPAGE_URL} -> HTTP {code}{'' if ok else ' (not ready)'}"
            )
            healthy &= ok
        except OSError as exc:
            self._say(f"ingress: {pins.PRODUCTPAGE_URL} -> {exc}")
            healthy = False
        return 0 if healthy else 1

    def _deployments(self, namespace: str) -> bool:
        result = self._quiet(
            (
                "kubectl",
                "--context",
                pins.CONTEXT,
                "-n",
                namespace,
                "get",
                "deployments",
                "-o",
                "json",
            )
        )
        if result.returncode != 0:
            detail = (result.stderr or result.output).strip()
            self._say(f"{namespace}: cannot list deployments: {detail}")
            return False
        try:
            items = json.loads(result.output).get("items", [])
        except ValueError:
            self._say(f"{namespace}: kubectl did not print JSON")
            return False
        if not items:
            self._say(f"{namespace}: no deployments")
            return False
        ok = True
        parts = []
        for item in items:
            want = int((item.get("spec") or {}).get("replicas", 1))
            ready = int((item.get("status") or {}).get("readyReplicas", 0))
            parts.append(f"{item['metadata']['name']} {ready}/{want}")
            ok &= ready >= want
        self._say(f"{namespace}: " + ", ".join(parts))
        return ok
