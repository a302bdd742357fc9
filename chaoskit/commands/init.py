"""``chaoskit init [DIR]``: example experiments, pytest settings and CI workflows for a user's
repository. Existing files are never overwritten."""

from __future__ import annotations

import argparse
from pathlib import Path

from chaoskit import __version__


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init",
        help="start chaos experiments in your repository (never overwrites a file)",
        description="Write example experiments (experiments/), a conftest.py, the pytest "
        "settings (appended to pyproject.toml) and GitHub Actions workflows for pull "
        "requests and scheduled game days. Existing files are kept and listed as skipped.",
        epilog="Then: pytest experiments/",
    )
    parser.add_argument(
        "directory", nargs="?", type=Path, default=Path(), help="default: the current one"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chaoskit.scaffold import scaffold

    target: Path = args.directory
    report = scaffold(target, version=__version__)
    print(report.render(), end="")
    where = "" if target.resolve() == Path.cwd().resolve() else f"cd {target} && "
    print(f"next: {where}pytest experiments/   (the report lands in reports/)")
    return 0
