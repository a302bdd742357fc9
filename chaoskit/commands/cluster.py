"""``chaoskit cluster up [--dry-run] | down | status | images | doctor``: the kind cluster for
game days.

``up`` creates a kind cluster named ``chaoskit``, installs Istio (``--istio-version``, by
default the release the embedded mesh emulates by default) with a NodePort
ingress on 127.0.0.1:8080, deploys Bookinfo into namespace ``bookinfo`` and the seed
templates' demo workloads into ``default``, and waits until ``/productpage`` and my-service
answer. ``down`` deletes it, but only a cluster chaoskit created. ``doctor`` checks what the
experiments assume of a live cluster (``chaoskit.cluster.doctor``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chaoskit.commands._target import chaoskit_home


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "cluster", help="create or delete the kind cluster with Istio and Bookinfo"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser(
        "up", help="create the cluster, install Istio, deploy Bookinfo and the demo workloads"
    )
    up.add_argument(
        "--dry-run", action="store_true", help="print the steps and their commands; run nothing"
    )
    up.add_argument(
        "--use-existing",
        action="store_true",
        help="the kind cluster 'chaoskit' exists (e.g. made by helm/kind-action): install onto "
        "it; `cluster down` will then not delete it",
    )
    up.add_argument(
        "--resources",
        type=Path,
        default=None,
        help="the folder with destination-rule-all.yaml, bookinfo-gateway.yaml and "
        "demo-destination-rules.yaml (default: the samples shipped with chaoskit)",
    )
    up.add_argument(
        "--ambient",
        action="store_true",
        help="Istio's ambient profile: bookinfo and default enrolled in ambient (no sidecars), "
        "each with a waypoint; check it with `cluster doctor --ambient`",
    )
    _version_option(up)
    up.set_defaults(handler=run_up)
    down = actions.add_parser("down", help="delete the cluster, if chaoskit created it")
    down.set_defaults(handler=run_down)
    status = actions.add_parser("status", help="what is running; exit 0 when everything is ready")
    status.set_defaults(handler=run_status)
    images = actions.add_parser("images", help="list every container image the cluster runs")
    images.add_argument("--ambient", action="store_true", help="the images of `up --ambient`")
    _version_option(images)
    images.set_defaults(handler=run_images)
    pinned = actions.add_parser(
        "pins",
        help="the versions a chaoskit kind cluster is built from (istio, kind, node, kubectl)",
    )
    pinned.add_argument("name", nargs="?", choices=PIN_NAMES, help="print only this one's value")
    pinned.set_defaults(handler=run_pins)
    doctor = actions.add_parser(
        "doctor",
        help="check every assumption the game day makes on the live cluster; exit 1 on a failure",
    )
    doctor.add_argument(
        "--kube-context",
        default=None,
        help="default: kind-chaoskit; chaoskit-embedded checks the running embedded mesh",
    )
    doctor.add_argument("--kubeconfig", default=None, help="default: $KUBECONFIG, ~/.kube/config")
    doctor.add_argument(
        "--i-understand-this-is-not-kind",
        dest="allow_non_kind",
        action="store_true",
        help="check a cluster that is not kind (needs --kube-context)",
    )
    doctor.add_argument(
        "--ingress-http",
        default=None,
        metavar="URL",
        help="the ingress gateway's published HTTP address (default http://127.0.0.1:8080)",
    )
    doctor.add_argument(
        "--client-url",
        default=None,
        metavar="URL",
        help="the in-mesh fortio client's published address (default http://127.0.0.1:8088)",
    )
    doctor.add_argument(
        "--ambient",
        action="store_true",
        help="the experiments expect ambient mode (`cluster up --ambient`): ztunnel, namespaces "
        "enrolled in ambient, a ready waypoint in each, no sidecars",
    )
    _version_option(doctor)
    doctor.set_defaults(handler=run_doctor)


def _version_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--istio-version",
        default=None,
        metavar="X.Y[.Z]",
        help="the Istio release (a minor means its newest known patch; default: "
        "$CHAOSKIT_ISTIO_VERSION, else the newest verified release)",
    )


def _select_version(args: argparse.Namespace) -> None:
    """Make ``--istio-version`` the release every cluster module reads (pins.istio_version)."""
    import os

    from chaoskit.cluster import pins
    from chaoskit.mesh.releases import install_tag

    if args.istio_version:
        os.environ[pins.ISTIO_VERSION_ENV] = install_tag(args.istio_version)
    pins.istio_version()  # a bad $CHAOSKIT_ISTIO_VERSION fails here, with its reason


def run_up(args: argparse.Namespace) -> int:
    from chaoskit.cluster.lifecycle import Cluster

    _select_version(args)
    cluster = Cluster(state_dir=chaoskit_home() / "cluster")
    return cluster.up(
        dry_run=args.dry_run,
        use_existing=args.use_existing,
        resources_dir=args.resources,
        ambient=args.ambient,
    )


def run_down(args: argparse.Namespace) -> int:
    from chaoskit.cluster.lifecycle import Cluster

    return Cluster(state_dir=chaoskit_home() / "cluster").down()


def run_status(args: argparse.Namespace) -> int:
    from chaoskit.cluster.lifecycle import Cluster

    return Cluster(state_dir=chaoskit_home() / "cluster").status()


def run_doctor(args: argparse.Namespace) -> int:
    from chaoskit.cluster import pins
    from chaoskit.cluster.doctor import FAIL, Doctor, DoctorTarget, render
    from chaoskit.controlplane.server import CONTEXT_NAME

    _select_version(args)
    context = args.kube_context or (None if args.allow_non_kind else pins.CONTEXT)
    if context == CONTEXT_NAME and args.ambient:
        from chaoskit.errors import ConfigError

        # The embedded mesh emulates ztunnel and waypoints as its own processes, not as the
        # DaemonSet and Gateway pods the ambient rows read; its tests check it instead.
        raise ConfigError(
            "cluster doctor --ambient checks a cluster installed with `cluster up --ambient`; "
            "the embedded mesh's ambient mode is not checked by the doctor (run it without "
            "--ambient for the sidecar checks)"
        )
    if context == CONTEXT_NAME:
        # The embedded mesh: its own workloads, ingress and fortio pod (its mesh.json is
        # next to its kubeconfig).
        from chaoskit.cluster.doctor_embedded import embedded_target
        from chaoskit.commands._target import default_state_dir

        state = Path(args.kubeconfig).parent if args.kubeconfig else default_state_dir()
        target = embedded_target(state)
    else:
        target = DoctorTarget(
            args.kubeconfig,
            context,
            allow_non_kind=args.allow_non_kind,
            ingress_url=f"{args.ingress_http or pins.INGRESS_HTTP}/productpage",
            client_url=args.client_url or pins.FORTIO_URL,
            dataplane="ambient" if args.ambient else "sidecar",
        )
    rows = Doctor(target).run()
    print(render(rows), end="")
    return 1 if any(r.result == FAIL for r in rows) else 0


def run_images(args: argparse.Namespace) -> int:
    from chaoskit.cluster.plan import cluster_images

    _select_version(args)
    print("\n".join(cluster_images(ambient=args.ambient)))
    return 0


# What `chaoskit cluster pins NAME` prints; a workflow reads the Istio release from here.
PIN_NAMES = ("istio", "kind", "kind-node-image", "kubectl")


def pin_values() -> dict[str, str]:
    from chaoskit.cluster import pins

    return {
        "istio": pins.istio_version(),  # the default release, or CHAOSKIT_ISTIO_VERSION
        "kind": pins.KIND_VERSION,
        "kind-node-image": pins.KIND_NODE_IMAGE,
        "kubectl": pins.KUBECTL_VERSION,
    }


def run_pins(args: argparse.Namespace) -> int:
    values = pin_values()
    if args.name:
        print(values[args.name])
        return 0
    for name, value in values.items():
        print(f"{name:<16} {value}")
    return 0
