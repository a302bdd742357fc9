"""``chaoskit analyze FILE|DIR...``: validate resources like ``istioctl analyze``."""

from __future__ import annotations

import argparse
import sys

from chaoskit.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="validate Istio resources like `istioctl analyze`",
        description=(
            "Analyze Istio resources in files and directories as one configuration, against "
            "the services and workloads of a mesh: the built-in mesh of `chaoskit mesh up` "
            "unless --mesh-spec names another (as istioctl analyzes files together with the "
            "cluster it is connected to). With --offline (istioctl's --use-kube=false) only "
            "the files are known, and the checks that need services, pods or secrets are "
            "skipped, as istioctl skips those analyzers."
        ),
        epilog=(
            "Exit codes, as istioctl's: 0 when clean; 79 when findings reach "
            "--failure-threshold; 65 when a file could not be read as resources (and nothing "
            "reached the threshold). Like istioctl, -o json and -o yaml always exit 0."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="FILE|DIR", help="YAML files or directories")
    parser.add_argument(
        "-R",
        "--recursive",
        action="store_true",
        help="also read subdirectories (off by default, as in istioctl)",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for resources that do not name one (default: default)",
    )
    parser.add_argument(
        "--mesh-spec",
        metavar="FILE",
        default="default",
        help="check against this mesh spec's services and workloads (default: the built-in)",
    )
    parser.add_argument(
        "--offline",
        "--use-kube=false",
        dest="offline",
        action="store_true",
        help="analyze the files alone, with no mesh known (istioctl's --use-kube=false)",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=("log", "json", "yaml"),
        default="log",
        help="output format (default: log)",
    )
    parser.add_argument(
        "--failure-threshold",
        default="Error",
        metavar="LEVEL",
        help="lowest level that makes the exit code non-zero: Info, Warning or Error",
    )
    parser.add_argument(
        "--output-threshold",
        default="Info",
        metavar="LEVEL",
        help="lowest level to print: Info, Warning or Error",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chaoskit.analysis import analyze_paths
    from chaoskit.analysis.messages import Level
    from chaoskit.analysis.output import exit_code, render
    from chaoskit.topology.spec import MeshSpec

    try:
        failure = Level.parse(args.failure_threshold)
        shown = Level.parse(args.output_threshold)
    except ValueError as exc:
        raise ConfigError(f"--failure-threshold/--output-threshold: {exc}") from None
    mesh = None
    if not args.offline:
        mesh = MeshSpec.default() if args.mesh_spec == "default" else MeshSpec.load(args.mesh_spec)
    result = analyze_paths(
        args.paths, mesh=mesh, default_namespace=args.namespace, recursive=args.recursive
    )
    sys.stdout.write(render(result, fmt=args.output, output_threshold=shown) + "\n")
    return exit_code(result, failure_threshold=failure, fmt=args.output)
