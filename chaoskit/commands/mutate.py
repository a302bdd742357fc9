"""``chaoskit mutate experiments/``: the suite's mutation score.

Each weakening of the mesh config (drop a timeout, drop outlierDetection, remove retries,
change weights, ...) is applied to the experiments whose config it changes, one at a time;
an experiment that still holds missed a missing protection.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("mutate", help="weaken the config and score the experiments")
    parser.add_argument("paths", nargs="+", help="experiment files or directories (pytest args)")
    parser.add_argument("--operator", action="append", help="only these operators (repeatable)")
    parser.add_argument("--min-score", type=float, default=1.0, help="fail below (default 1.0)")
    parser.add_argument("-o", "--output", type=Path, help="write the mutants as JSON here")
    parser.add_argument("--workdir", type=Path, help="keep each run's results here")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="mutant runs at a time, each with its own mesh (default 1; the baseline runs alone)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chaoskit.experiment.mutate import run_mutations
    from chaoskit.experiment.mutations import OPERATORS

    unknown = [o for o in args.operator or [] if o not in OPERATORS]
    if unknown:
        print(f"unknown operator(s) {', '.join(unknown)}; choose from {', '.join(OPERATORS)}")
        return 2
    if args.jobs < 1:
        print(f"--jobs must be at least 1, not {args.jobs}")
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="chaoskit-mutate-"))
    report = run_mutations(
        list(args.paths),
        workdir,
        operators=args.operator,
        progress=lambda t: print(t, flush=True),
        jobs=args.jobs,
    )
    print(report.table())
    if args.output:
        args.output.write_text(json.dumps(report.to_json(), indent=1))
    return 0 if report.score >= args.min_score else 1
