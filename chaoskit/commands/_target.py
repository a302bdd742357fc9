"""Which mesh a command talks to: the embedded mesh in the state directory, or a kubeconfig."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from chaoskit.errors import BackendError

if TYPE_CHECKING:
    from chaoskit.kube.client import KubeClient

STATE_FILE = "mesh.json"


def chaoskit_home() -> Path:
    return Path(os.environ.get("CHAOSKIT_HOME") or Path.home() / ".chaoskit")


def default_state_dir() -> Path:
    return chaoskit_home() / "mesh"


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the embedded mesh's state directory (default: $CHAOSKIT_HOME/mesh, ~/.chaoskit/mesh)",
    )
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="talk to a cluster through this kubeconfig instead of the embedded mesh",
    )
    parser.add_argument("--context", default=None, help="kubeconfig context (with --kubeconfig)")


def connect(args: argparse.Namespace) -> KubeClient:
    from chaoskit.controlplane.server import MeshInfo
    from chaoskit.kube.client import KubeClient

    if args.kubeconfig:
        return KubeClient.from_kubeconfig(args.kubeconfig, args.context)
    state_dir = args.state_dir or default_state_dir()
    info = MeshInfo.read(state_dir)
    if info is None:
        raise BackendError(
            f"no embedded mesh is running (no {state_dir / STATE_FILE}); start one with "
            "`chaoskit mesh up --detach`, or pass --kubeconfig for a cluster"
        )
    return KubeClient.from_kubeconfig(info.kubeconfig, embedded=True)
