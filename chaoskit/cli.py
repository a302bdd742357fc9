"""The ``chaoskit`` command line: parse, dispatch, and turn chaoskit errors into messages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chaoskit import __version__
from chaoskit.commands import (
    analyze,
    cluster,
    init,
    logs,
    mesh,
    mutate,
    proxy,
    report,
    resources,
    secret,
)
from chaoskit.errors import ChaoskitError

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chaoskit",
        description="Chaos experiments for Istio service meshes, written as pytest tests.",
    )
    parser.add_argument("--version", action="version", version=f"chaoskit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (init, analyze, mesh, resources, proxy, logs, secret, mutate, report, cluster):
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = handler(args)
    except ChaoskitError as exc:
        sys.stderr.write(f"chaoskit {args.command}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"chaoskit {args.command}: interrupted\n")
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
