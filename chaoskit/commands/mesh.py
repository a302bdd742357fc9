"""``chaoskit mesh up|down|status|snapshot``: run the embedded mesh, or write a twin of a
live cluster for it (:mod:`chaoskit.commands.snapshot`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chaoskit.commands._target import default_state_dir
from chaoskit.commands.snapshot import add_snapshot_parser
from chaoskit.errors import BackendError

if TYPE_CHECKING:
    from chaoskit.controlplane.server import MeshInfo


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("mesh", help="start, stop or inspect the embedded mesh")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="start the embedded mesh (foreground unless --detach)")
    up.add_argument(
        "--spec", type=Path, default=None, help="mesh spec file (default: built-in Bookinfo)"
    )
    up.add_argument(
        "--ingress-port",
        type=int,
        default=18080,
        help="host port of the ingress gateway's HTTP listener (default 18080)",
    )
    up.add_argument(
        "--ingress-https-port", type=int, default=18443, help="host port for HTTPS (default 18443)"
    )
    up.add_argument(
        "--api-port", type=int, default=0, help="API server port (default: any free port)"
    )
    up.add_argument("--seed", type=int, default=0, help="seed for fault draws and load balancing")
    up.add_argument(
        "--istio-version",
        default=None,
        metavar="X.Y[.Z]",
        help="the Istio release whose behaviour the mesh emulates (default: the spec's "
        "istioVersion, else the newest verified release)",
    )
    up.add_argument(
        "--detach",
        action="store_true",
        help="run in the background; stop with `chaoskit mesh down`",
    )
    up.add_argument(
        "--address-mode",
        choices=("auto", "ip", "port"),
        default=None,
        help="ip: a loopback address per pod (Linux); port: ports of its own per pod on "
        "127.0.0.1 (macOS without aliases); default auto: ip where 127.0.0.2 can be bound",
    )
    up.add_argument("--state-dir", type=Path, default=None)
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    up.set_defaults(handler=run_up)
    down = actions.add_parser("down", help="stop a mesh started with --detach")
    down.add_argument("--state-dir", type=Path, default=None)
    down.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the pods' logs (STATE_DIR/logs); by default they go with the mesh",
    )
    down.set_defaults(handler=run_down)
    status = actions.add_parser("status", help="show the running mesh")
    status.add_argument("--state-dir", type=Path, default=None)
    status.add_argument("-o", "--output", choices=("text", "json"), default="text")
    status.set_defaults(handler=run_status)
    add_snapshot_parser(actions)


_MODE_TEXT = {
    "ip": "ip mode (a 127.x address per pod)",
    "port": "port mode (every pod on 127.0.0.1 with ports of its own; see `mesh status`)",
}


def _plane_text(info: MeshInfo) -> str:
    """Which data plane the mesh runs, per namespace when it runs both (as Istio's
    ``istio.io/dataplane-mode`` label decides it)."""
    if not info.ambient_namespaces:
        return "sidecar data plane"
    return f"ambient data plane in {', '.join(info.ambient_namespaces)}; sidecars elsewhere"


def _print_info(info: object, spec: Path | None = None) -> None:
    from chaoskit.controlplane.server import MeshInfo

    assert isinstance(info, MeshInfo)
    print(f"embedded mesh ready, emulating Istio {info.istio_version} ({_plane_text(info)})")
    print(f"  addresses:  {_MODE_TEXT.get(info.address_mode, info.address_mode)}")
    print(f"  ingress:    {info.ingress_http}  {info.ingress_https}")
    print(f"  API server: {info.api_server}")
    print(f"  kubeconfig: {info.kubeconfig}")
    # The built-in spec starts with Bookinfo's gateway and subsets in force (spec.resources);
    # a custom spec without a Gateway serves nothing on the ingress, as in Istio.
    if spec is None:
        print(
            f"  try:        curl -s {info.ingress_http}/productpage | grep -o '<title>.*</title>'"
        )
    else:
        print(f"  spec:       {spec}")
    # Python block-buffers stdout on a pipe: `chaoskit mesh up | tee log` must see the block
    # when the mesh is ready, not when the command exits.
    sys.stdout.flush()


def run_up(args: argparse.Namespace) -> int:
    from chaoskit.controlplane.launcher import MeshProcess, pid_alive
    from chaoskit.controlplane.server import MeshInfo

    state_dir: Path = args.state_dir or default_state_dir()
    existing = MeshInfo.read(state_dir)
    if existing is not None and pid_alive(existing.pid):
        raise BackendError(
            f"a mesh is already running from {state_dir} (pid {existing.pid}); "
            "stop it with `chaoskit mesh down` or use another --state-dir"
        )
    if not args.detach:
        return _run_foreground(args, state_dir)
    mesh = MeshProcess.start(
        state_dir,
        spec=args.spec,
        ingress_port=args.ingress_port,
        ingress_https_port=args.ingress_https_port,
        api_port=args.api_port,
        seed=args.seed,
        timeout_s=args.timeout,
        detach=True,
        istio_version=args.istio_version,
        address_mode=args.address_mode,
    )
    _print_info(mesh.info, args.spec)
    return 0


def _run_foreground(args: argparse.Namespace, state_dir: Path) -> int:
    from chaoskit.controlplane.launcher import record_spec
    from chaoskit.controlplane.server import RunningMesh, serve_forever
    from chaoskit.topology.spec import MeshSpec

    record_spec(state_dir, args.spec)

    async def main() -> None:
        mesh = await RunningMesh.start(
            MeshSpec.load(args.spec).with_istio_version(args.istio_version),
            state_dir,
            api_port=args.api_port,
            ingress_http_port=args.ingress_port,
            ingress_https_port=args.ingress_https_port,
            seed=args.seed,
            ready_timeout_s=args.timeout,
            address_mode=args.address_mode,
        )
        _print_info(mesh.info, args.spec)
        print("press Ctrl-C to stop", flush=True)
        await serve_forever(mesh)

    asyncio.run(main())
    return 0


def run_down(args: argparse.Namespace) -> int:
    from chaoskit.controlplane.launcher import pid_alive, stop_pid
    from chaoskit.controlplane.server import MeshInfo

    state_dir: Path = args.state_dir or default_state_dir()
    info = MeshInfo.read(state_dir)
    if info is None or not pid_alive(info.pid):
        print(f"no embedded mesh is running from {state_dir}")
        with contextlib.suppress(FileNotFoundError):
            (state_dir / "mesh.json").unlink()
    else:
        stop_pid(info.pid)
        print(f"embedded mesh stopped (pid {info.pid})")
    _prune_logs(state_dir, keep=args.keep_logs)
    return 0


def _prune_logs(state_dir: Path, *, keep: bool) -> None:
    """Logs belong to a mesh: they go when it does (also a crashed mesh's), unless kept."""
    from chaoskit.controlplane.logcap import remove_logs

    if keep:
        if (state_dir / "logs").is_dir():
            print(f"logs kept in {state_dir / 'logs'}")
        return
    removed = remove_logs(state_dir)
    if removed:
        print(f"removed {removed} log and boot files from {state_dir}")


def run_status(args: argparse.Namespace) -> int:
    from chaoskit.controlplane.server import MeshInfo
    from chaoskit.kube.client import KubeClient

    state_dir: Path = args.state_dir or default_state_dir()
    info = MeshInfo.read(state_dir)
    from chaoskit.controlplane.launcher import pid_alive

    if info is None or not pid_alive(info.pid):
        print(f"no embedded mesh is running from {state_dir}")
        return 3
    client = KubeClient.from_kubeconfig(info.kubeconfig, embedded=True)
    try:
        status = client.proxy_status()
    finally:
        client.close()
    if args.output == "json":
        print(json.dumps({"mesh": info.to_json(), **status}, indent=2))
        return 0
    from chaoskit.controlplane.launcher import recorded_spec

    _print_info(info, recorded_spec(state_dir))
    for row in status["proxies"]:
        # Port mode: every pod is 127.0.0.1; its ports tell it apart (pod port → host port).
        ports = " ".join(f"{k}→{v}" for k, v in (row.get("ports") or {}).items())
        print(f"  {row['proxy']:<45} {row['ip']:<16} {row['state']}  {ports}".rstrip())
    return 0
