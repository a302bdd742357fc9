"""``chaoskit report RESULTS.json... [-o FILE]`` and ``chaoskit report --history DIR``.

One results file gives that run's report; several give one page listing them all (or,
with ``--trend``, the history view comparing them); ``--history DIR`` compares every
``DIR/*/results.json`` (by run start), and with one results file adds that comparison
under its report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chaoskit.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="render results.json files as a self-contained HTML report",
        description=(
            "Render the results.json files that the pytest plugin writes as one HTML page "
            "that works offline (scripts, styles and charts are inside the file)."
        ),
        epilog=(
            "Examples: chaoskit report reports/20251125T071502Z-4f2a/results.json; "
            "chaoskit report --history reports/ -o history.html"
        ),
    )
    parser.add_argument(
        "results", nargs="*", type=Path, metavar="RESULTS.json", help="results files to render"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="the page to write (default: report.html next to a single results file, or "
        "report-2.html, report-3.html… when that exists, so the run's own report stays; "
        "history.html in the --history directory, else ./report.html)",
    )
    parser.add_argument(
        "--history",
        type=Path,
        metavar="DIR",
        help="compare every DIR/*/results.json, oldest run first (with one RESULTS.json: "
        "its report followed by the comparison)",
    )
    parser.add_argument(
        "--trend",
        action="store_true",
        help="with several RESULTS.json: compare them (the history view) instead of listing",
    )
    parser.set_defaults(handler=run)


def _output(args: argparse.Namespace) -> Path:
    if args.output is not None:
        return Path(args.output)
    if len(args.results) == 1:
        return _fresh(Path(args.results[0]).parent / "report.html")
    if args.history is not None and not args.results:
        return Path(args.history) / "history.html"
    return Path("report.html")


def _fresh(path: Path) -> Path:
    """``path``, or ``report-2.html``, ``report-3.html``… when it exists: the report pytest
    wrote for the run is never replaced unless ``-o`` names it."""
    number = 2
    while path.exists():
        path = path.with_name(f"report-{number}.html")
        number += 1
    return path


def run(args: argparse.Namespace) -> int:
    from chaoskit.report import (
        load_history,
        load_results,
        render_history,
        render_report,
        render_runs,
        write_page,
    )

    files: list[Path] = list(args.results)
    if not files and args.history is None:
        raise ConfigError("give one or more RESULTS.json files, or --history DIR")
    if args.history is not None and len(files) > 1:
        raise ConfigError(
            "--history DIR takes at most one RESULTS.json (to report it against DIR); "
            "to compare several files, use --trend"
        )
    runs = [load_results(path) for path in files]
    if args.history is not None:
        past = load_history(args.history)
        page = render_report(runs[0], history=past) if runs else render_history(past)
        what = f"{len(past)} runs from {args.history}"
    elif args.trend:
        page = render_history(runs)
        what = f"trends of {len(runs)} runs"
    elif len(runs) == 1:
        from chaoskit.experiment.session import sibling_history

        # The same History section as the report pytest wrote: the runs beside this one.
        history = sibling_history(files[0])
        page = render_report(runs[0], history=history or None)
        what = f"{len(runs[0]['experiments'])} experiments"
        if history:
            what += f", history of {len(history)} earlier runs"
    else:
        page = render_runs(runs)
        what = f"{len(runs)} runs"
    target = write_page(page, _output(args))
    print(f"wrote {target} ({what}, {len(page.encode('utf-8')) / 1024:.0f} KiB)")
    return 0
