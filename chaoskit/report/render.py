"""A run's results (or several runs') as one self-contained HTML page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chaoskit.report import fmt
from chaoskit.report.charts import ChartSet
from chaoskit.report.experiment import experiment_section
from chaoskit.report.history import history_fragment, sort_runs
from chaoskit.report.load import check_results
from chaoskit.report.markup import esc
from chaoskit.report.page import document
from chaoskit.report.summary import badge, summary_block


def _run_body(
    results: Mapping[str, Any], charts: ChartSet, level: int, prefix: str
) -> tuple[str, str]:
    """The run's summary and experiment sections, and its entries for the contents list."""
    main = [summary_block(results, level, prefix)]
    nav = [f'<li><a href="#{prefix}-summary">Summary</a></li>']
    if not results["experiments"]:
        main.append('<p class="muted">This run holds no experiment.</p>')
    for i, experiment in enumerate(results["experiments"]):
        anchor = f"{prefix}-e{i + 1}"
        main.append(experiment_section(experiment, charts=charts, level=level, anchor=anchor))
        nav.append(
            f'<li><a href="#{anchor}">{badge(str(experiment["outcome"]))} '
            f"{esc(experiment['name'])}</a></li>"
        )
    return "".join(main), "".join(nav)


def _same_run(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return bool(a["run"]["id"] == b["run"]["id"] and a["run"]["started"] == b["run"]["started"])


def render_report(
    results: Mapping[str, Any], *, history: Sequence[Mapping[str, Any]] | None = None
) -> str:
    """One run as a page; with ``history`` (earlier runs), a trend section compares them.

    ``results`` may also appear in ``history``; it is counted once.
    """
    check_results(results)
    charts = ChartSet()
    main, nav = _run_body(results, charts, 2, "r1")
    nav_html = f"<h2>Contents</h2><ol>{nav}</ol>"
    if history:
        for i, run in enumerate(history):
            check_results(run, f"history[{i}]")
        runs = sort_runs([*(h for h in history if not _same_run(h, results)), results])
        past, past_nav = history_fragment(runs, charts, 3, "h")
        main += (
            f'<section class="history" aria-labelledby="h-title"><h2 id="h-title">'
            f"History: {len(runs)} runs</h2>{past}</section>"
        )
        nav_html += f"<h2>History</h2><ol>{past_nav}</ol>"
    run = results["run"]
    return document(
        title="chaoskit resilience report",
        subtitle=f"Run {run['id']}, started {fmt.timestamp(run['started'])}",
        nav=nav_html,
        main=main,
        charts=charts.specs,
    )


def render_runs(runs: Sequence[Mapping[str, Any]]) -> str:
    """Several runs on one page, each in full, in the order given."""
    if not runs:
        raise ValueError("render_runs needs at least one run")
    if len(runs) == 1:
        return render_report(runs[0])
    charts = ChartSet()
    main, nav = [], []
    for i, results in enumerate(runs):
        check_results(results, f"runs[{i}]")
        prefix = f"r{i + 1}"
        body, entries = _run_body(results, charts, 3, prefix)
        run = results["run"]
        title = f"Run {run['id']}"
        main.append(
            f'<article aria-labelledby="{prefix}-title"><h2 id="{prefix}-title">{esc(title)}'
            f" <small>{esc(fmt.timestamp(run['started']))}</small></h2>{body}</article>"
        )
        nav.append(f"<li>{esc(title)}<ol>{entries}</ol></li>")
    return document(
        title="chaoskit resilience report",
        subtitle=f"{len(runs)} runs",
        nav=f"<h2>Contents</h2><ol>{''.join(nav)}</ol>",
        main="".join(main),
        charts=charts.specs,
    )


def write_page(page: str, path: str | Path) -> Path:
    """Write a rendered page (UTF-8), creating the directory; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def write_report(
    results: Mapping[str, Any],
    path: str | Path,
    *,
    history: Sequence[Mapping[str, Any]] | None = None,
) -> Path:
    """:func:`render_report` written to ``path``."""
    return write_page(render_report(results, history=history), path)
