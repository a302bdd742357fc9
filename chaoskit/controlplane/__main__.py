"""``python -m chaoskit.controlplane --state-dir DIR [--spec FILE] ...``: a background mesh."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from chaoskit.controlplane.pods import close_early, launch_early
from chaoskit.errors import ChaoskitError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaoskit.controlplane")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--spec", type=Path, default=None)
    parser.add_argument("--api-port", type=int, default=0)
    parser.add_argument("--ingress-port", type=int, default=0)
    parser.add_argument("--ingress-https-port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--istio-version", default=None, help="the Istio release to emulate (overrides the spec)"
    )
    parser.add_argument("--address-mode", default=None, help="ip, port or auto (default)")
    parser.add_argument(
        "--ready-timeout", type=float, default=30.0, help="seconds for every pod to be ready"
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=0,
        help="stop when this process is gone (a test run that dies leaves no mesh behind)",
    )
    args = parser.parse_args(argv)

    async def run() -> None:
        # The pod fork server first: its imports then run on the other core while this
        # process imports the control plane (the two were a third of `mesh up`, in turn).
        await launch_early(args.state_dir)
        try:
            from chaoskit.controlplane.server import RunningMesh, serve_forever
            from chaoskit.topology.spec import MeshSpec

            mesh = await RunningMesh.start(
                MeshSpec.load(args.spec).with_istio_version(args.istio_version),
                args.state_dir,
                api_port=args.api_port,
                ingress_http_port=args.ingress_port,
                ingress_https_port=args.ingress_https_port,
                seed=args.seed,
                address_mode=args.address_mode,
                ready_timeout_s=args.ready_timeout,
            )
        finally:
            await close_early(args.state_dir)  # only if no mesh took it over
        await serve_forever(mesh, parent_pid=args.parent_pid)

    try:
        asyncio.run(run())
    except ChaoskitError as exc:
        sys.stderr.write(f"chaoskit mesh: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
