"""``chaoskit mutate experiments/``: the suite's mutation score.

Each weakening of the mesh config is applied to the experiments whose config it changes,
one at a time: removals (drop a timeout, drop outlierDetection, remove retries, even out
weights, ...) and partial weakenings (90/10 → 80/20, a timeout doubled, ...). An experiment
that still holds missed it, unless it declared that partial weakening uncatchable. Each
mutant's line names the check that killed it and every other check it flipped; per check,
the mutants that flip it. The score is given per kind; ``mutation.html`` in the work
directory shows the same tables.
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
    parser.add_argument(
        "--kind",
        choices=("removal", "partial"),
        help="only removals, or only partial weakenings (default both)",
    )
    parser.add_argument(
        "--min-score",
        type=float,
        default=1.0,
        help="fail when removals, or partial weakenings not declared uncatchable, are caught "
        "below this share (default 1.0)",
    )
    parser.add_argument("-o", "--output", type=Path, help="write the mutants as JSON here")
    parser.add_argument(
        "--workdir", type=Path, help="keep each run's results and mutation.html here"
    )
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
    chosen = [
        name
        for name in args.operator or OPERATORS
        if args.kind is None or OPERATORS[name].kind == args.kind
    ]
    if not chosen:
        print(f"none of the operators {', '.join(args.operator)} is a {args.kind} operator")
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="chaoskit-mutate-"))
    report = run_mutations(
        list(args.paths),
        workdir,
        operators=chosen,
        progress=lambda t: print(t, flush=True),
        jobs=args.jobs,
    )
    from chaoskit.report.mutation import render_mutation_report
    from chaoskit.report.render import write_page

    print(report.table())
    data = report.to_json()
    if args.output:
        args.output.write_text(json.dumps(data, indent=1))
    print(f"report: {write_page(render_mutation_report(data), workdir / 'mutation.html')}")
    return 0 if report.holds(args.min_score) else 1
