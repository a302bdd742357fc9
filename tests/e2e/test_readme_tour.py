"""The README's command-line tour runs as written, against an embedded mesh.

Every ``$ `` line of the tour's console blocks is run in order from the repository root
(``chaoskit`` from this venv, ``HOME`` under the test's temporary directory; an
``export`` line sets the variable for the commands after it, as the user's shell does).
A command whose shown output has an ``Error [IST...]`` finding must exit 79 (istioctl's
code), every other one 0; each shown output line must appear in the real output, with
numbers free (ports, versions, timings differ from run to run). Lines for ``kubectl``
are skipped when it is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"


@dataclass
class Step:
    command: str
    shown: list[str] = field(default_factory=list)


def _without_comment(line: str) -> str:
    # Comments in the tour are separated from the command by two or more spaces.
    return re.split(r"\s{2,}#", line, maxsplit=1)[0].rstrip()


def tour_steps() -> list[Step]:
    text = README.read_text(encoding="utf-8")
    tour = text.split("## A short tour of the command line", 1)[1].split("\n## ", 1)[0]
    steps: list[Step] = []
    for block in re.findall(r"```console\n(.*?)```", tour, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append(Step(_without_comment(line[2:])))
            elif steps and line.strip() and not line.startswith(("#", "...")):
                steps[-1].shown.append(_without_comment(line))
    return steps


def _pattern(shown: str) -> re.Pattern[str]:
    parts = re.split(r"(\d+)", shown.replace("~/.chaoskit", "\0"))
    regex = "".join(
        r"\d+" if part.isdigit() else re.escape(part).replace("\\\0", ".*").replace("\0", ".*")
        for part in parts
    )
    return re.compile(r"\s+".join(regex.split(r"\ ")))


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_tour_parses_into_commands() -> None:
    commands = [step.command for step in tour_steps()]
    assert commands[0] == "chaoskit analyze chaoskit/samples/"
    assert "chaoskit mesh up --detach" in commands
    assert commands[-1] == "chaoskit mesh down"


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    taken = [port for port in (18080, 18443) if _port_taken(port)]
    if taken:
        pytest.skip(f"the tour's `mesh up` binds ports 18080 and 18443; {taken} in use here")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        # A home of its own: the tour's ``~/.chaoskit`` and kubectl's ``~/.kube`` cache.
        "HOME": str(tmp_path / "home"),
    }
    env.pop("CHAOSKIT_HOME", None)
    env.pop("KUBECONFIG", None)
    steps = tour_steps()
    try:
        for step in steps:
            if step.command.startswith("kubectl") and shutil.which("kubectl") is None:
                continue
            exported = re.fullmatch(r"export (\w+)=(\S+)", step.command)
            if exported:  # the user's shell keeps it for the commands that follow
                env[exported[1]] = exported[2].replace("~", env["HOME"], 1)
                continue
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", step.command],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            expected = 79 if any(s.startswith("Error [IST") for s in step.shown) else 0
            assert done.returncode == expected, (step.command, done.stdout[-2000:], done.stderr)
            lines = done.stdout.splitlines()
            for shown in step.shown:
                pattern = _pattern(shown)
                assert any(pattern.fullmatch(line.rstrip()) for line in lines), (
                    step.command,
                    shown,
                    done.stdout[-2000:],
                )
    finally:
        subprocess.run(
            ["chaoskit", "mesh", "down"], cwd=REPO, env=env, capture_output=True, timeout=60
        )
