"""``chaoskit analyze FILE|DIR...``: validate resources like ``istioctl analyze``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chaoskit.commands._target import default_state_dir
from chaoskit.errors import ConfigError

if TYPE_CHECKING:
    from chaoskit.analysis import AnalysisResult
    from chaoskit.kube.client import KubeClient
    from chaoskit.topology.spec import MeshSpec


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="validate Istio resources like `istioctl analyze`",
        description=(
            "Analyze Istio resources in files and directories as one configuration, against "
            "the services and workloads of a mesh: the built-in mesh of `chaoskit mesh up` "
            "unless --mesh-spec names another (as istioctl analyzes files together with the "
            "cluster it is connected to). When an embedded mesh is running (and no "
            "--mesh-spec is given), its live Istio resources and Secrets are analyzed too, "
            "with the files' resources replacing live ones of the same name; with no files, "
            "the live config alone is analyzed, as `istioctl analyze` does. With --offline "
            "(istioctl's --use-kube=false) only the files are known, and the checks that need "
            "services, pods or secrets are skipped, as istioctl skips those analyzers."
        ),
        epilog=(
            "Exit codes, as istioctl's: 0 when clean; 79 when findings reach "
            "--failure-threshold; 65 when a file could not be read as resources (and nothing "
            "reached the threshold). Like istioctl, -o json and -o yaml always exit 0."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="FILE|DIR",
        help="YAML files or directories (none: the running mesh's live config)",
    )
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
        default=None,
        help="check against this mesh spec's services and workloads instead of the running "
        "mesh (default: the built-in spec, with the running mesh's live config if one runs)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the running embedded mesh to read the live config from "
        "(default: $CHAOSKIT_HOME/mesh, ~/.chaoskit/mesh)",
    )
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="read the live Istio config of this cluster instead (like istioctl: the files "
        "are overlaid on it; checks that need services, pods or secrets are skipped there, "
        "as chaoskit has no mesh spec of a cluster)",
    )
    parser.add_argument(
        "--context", "--kube-context", dest="context", default=None, help="kubeconfig context"
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


def _analyze_live(
    args: argparse.Namespace, client: KubeClient, mesh: MeshSpec | None
) -> AnalysisResult:
    """The files overlaid on the running mesh's live config, like ``istioctl analyze``."""
    from chaoskit.analysis import AnalysisResult, analyze_resources
    from chaoskit.analysis.analyzer import _fix_for
    from chaoskit.analysis.messages import Message
    from chaoskit.commands.live_config import live_resources, with_live_secrets
    from chaoskit.istio.loading import load_files

    live = live_resources(client)
    files = load_files(args.paths, default_namespace=args.namespace, recursive=args.recursive)
    if mesh is not None:
        mesh = with_live_secrets(mesh, client)
    # Later definitions win: a file's resource replaces the live one of the same name.
    resources = live.analyzable + files.analyzable
    messages = [Message.from_problem(p, fix=_fix_for(p.code)) for p in files.problems]
    messages += analyze_resources(resources, mesh=mesh)
    messages.sort(key=lambda m: (m.source or "", m.document or 0, m.line or 0, m.type.code))
    return AnalysisResult(messages, resources)


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
    from chaoskit.commands.live_config import recorded_spec, running_mesh

    mesh = None
    client = None
    state_dir = args.state_dir or default_state_dir()
    if args.kubeconfig and not args.offline:
        from chaoskit.kube.client import KubeClient

        client = KubeClient.from_kubeconfig(args.kubeconfig, args.context)
        try:
            result = _analyze_live(args, client, None)
        finally:
            client.close()
        sys.stdout.write(render(result, fmt=args.output, output_threshold=shown) + "\n")
        return exit_code(result, failure_threshold=failure, fmt=args.output)
    if not args.offline and args.mesh_spec is None:
        client = running_mesh(state_dir)
    if not args.offline:
        spec = args.mesh_spec
        if spec is None and client is not None:
            spec = recorded_spec(state_dir)  # the spec the running mesh was started with
        mesh = MeshSpec.default() if spec in (None, "default") else MeshSpec.load(spec)
    if client is None and not args.paths:
        raise ConfigError(
            "no files given and no embedded mesh is running to analyze; give FILE|DIR, or "
            "start one with `chaoskit mesh up --detach` (its live config is then analyzed)"
        )
    if client is None:
        result = analyze_paths(
            args.paths, mesh=mesh, default_namespace=args.namespace, recursive=args.recursive
        )
    else:
        try:
            assert mesh is not None
            result = _analyze_live(args, client, mesh)
        finally:
            client.close()
    sys.stdout.write(render(result, fmt=args.output, output_threshold=shown) + "\n")
    return exit_code(result, failure_threshold=failure, fmt=args.output)
