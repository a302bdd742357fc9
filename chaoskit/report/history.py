"""Several runs side by side: a verdict grid, trends per window, and what changed last."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from chaoskit.report import fmt
from chaoskit.report.charts import ChartSet, line, r
from chaoskit.report.load import check_results
from chaoskit.report.markup import esc, table
from chaoskit.report.page import document
from chaoskit.report.summary import badge, counts, score
from chaoskit.report.trend import CONFIDENCE, MIN_SECONDS, P99_MIN_RISE, Finding, find_changes


def sort_runs(runs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Oldest first, by ``run.started`` (the run id breaks ties)."""
    return sorted(runs, key=lambda run: (run["run"]["started"], run["run"]["id"]))


def _short(run: Mapping[str, Any], index: int) -> str:
    started = time.strftime("%m-%d %H:%M", time.gmtime(run["run"]["started"]))
    return f"#{index + 1} {started}"


def _experiment_order(runs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Experiment id → its latest name, latest run's order first, then older ones."""
    names: dict[str, str] = {}
    for run in reversed(runs):
        for e in run["experiments"]:
            names.setdefault(str(e["id"]), str(e["name"]))
    return names


def _find(run: Mapping[str, Any], experiment_id: str) -> Mapping[str, Any] | None:
    for e in run["experiments"]:
        if e["id"] == experiment_id:
            return e  # type: ignore[no-any-return]
    return None


def _release(run: Mapping[str, Any]) -> str:
    """The Istio release and data plane a run ran on: trends across a release change are
    not like for like (the game day runs several releases)."""
    mesh = run["run"]["mesh"]
    version = str(mesh["istio_version"] or fmt.DASH)
    mode = mesh.get("dataplane")
    return f"{version} {mode}" if mode else version


def _runs_table(runs: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for i, run in enumerate(runs):
        c = counts(run["experiments"])
        s = score(run)
        rows.append(
            [
                f'<span class="nowrap">{esc(_short(run, i))}</span><br>'
                f"<small><code>{esc(run['run']['id'])}</code></small>",
                f'<span class="nowrap">{esc(fmt.timestamp(run["run"]["started"]))}</span>',
                f'<code class="nowrap">{esc((run["run"]["git_commit"] or fmt.DASH)[:12])}</code>',
                esc(_release(run)),
                *(esc(str(c[o])) for o in ("held", "failed", "inconclusive", "error", "skipped")),
                esc(fmt.pct(s.value, 0) if s.value is not None else "n/a"),
            ]
        )
    headers = ["Run", "Started", "Commit", "Istio", "Held", "Failed", "Inconclusive", "Error"]
    headers += ["Skipped", "Score"]
    return table(
        headers,
        rows,
        caption="Runs, oldest first; score = held ÷ (held + failed + inconclusive)",
        numeric=[False, False, False, False, *[True] * 6],
        css="wide",
    )


def _grid(
    runs: Sequence[Mapping[str, Any]], names: Mapping[str, str], anchors: Mapping[str, str]
) -> str:
    headers = ["Experiment", *(_short(run, i) for i, run in enumerate(runs))]
    rows = []
    for eid, name in names.items():
        row = [f'<a href="#{anchors[eid]}">{esc(name)}</a>']
        for run in runs:
            e = _find(run, eid)
            row.append(badge(str(e["outcome"])) if e else '<span class="muted">not run</span>')
        rows.append(row)
    return table(
        headers,
        rows,
        caption="Verdict of each experiment in each run (oldest run first)",
        css="grid-table",
    )


def _findings(
    findings: Sequence[Finding], names: Mapping[str, str], level: int, heading_id: str
) -> str:
    flagged = [f for f in findings if f.change == "regression"]
    better = [f for f in findings if f.change == "improvement"]
    rest = [f for f in findings if f.change in ("no change", "not tested")]

    def items(chosen: Sequence[Finding], css: str, icon: str, word: str = "") -> str:
        return "".join(
            f'<li class="{css}"><span aria-hidden="true">{icon}</span> {word}'
            f"<strong>{esc(names.get(f.experiment, f.experiment))}</strong>: {esc(f.message)}</li>"
            for f in chosen
        )

    h = f"h{level}"
    out = [f'<{h} id="{heading_id}">What changed in the latest run</{h}>']
    if flagged:
        out.append(
            f'<p><strong class="flag-regression">{len(flagged)} significant regression'
            f"{'s' if len(flagged) != 1 else ''}</strong></p>"
            f'<ul class="findings">{items(flagged, "flag-regression", "▼", "regression: ")}</ul>'
        )
    else:
        out.append("<p>No significant regression against the earlier runs.</p>")
    if better:
        out.append(
            f'<ul class="findings">{items(better, "flag-improvement", "▲", "improvement: ")}</ul>'
        )
    if rest:
        out.append(
            f"<details><summary>All {len(rest)} other comparisons</summary>"
            f'<ul class="findings">{items(rest, "", "•")}</ul></details>'
        )
    n = len(findings)
    out.append(
        f'<p class="muted">How: the latest run is compared with the earlier runs pooled, per '
        f"experiment and window. <em>Success rate</em>: Newcombe's hybrid score interval "
        f"({CONFIDENCE:.0%}) for the difference of the two rates; flagged when the whole "
        f"interval is below zero. <em>p99</em>: results files keep each window's exact p99 "
        f"but not the raw latencies, so a window p99 has no interval. The evidence is the "
        f"per-second p99s instead: a seeded percentile bootstrap ({CONFIDENCE:.0%}) of the "
        f"ratio of their medians. Seconds of one run are correlated, which makes that "
        f"interval too narrow, so a p99 rise is flagged only when the window p99 rose by at "
        f"least {P99_MIN_RISE - 1:.0%}, is above every earlier run's p99, and the "
        f"per-second interval lies wholly above no change; with fewer than {MIN_SECONDS} "
        f"seconds on a side nothing is flagged. This page makes {n} comparisons, each at "
        f"{CONFIDENCE:.0%}: on an unchanged system about {n * (1 - CONFIDENCE):.1f} of them "
        f"could look significant by chance.</p>"
    )
    return "".join(out)


def _trend(
    runs: Sequence[Mapping[str, Any]],
    eid: str,
    name: str,
    charts: ChartSet,
    level: int,
    anchor: str,
) -> str:
    labels: list[str] = []
    for run in runs:
        e = _find(run, eid)
        for w in e["windows"] if e else []:
            if w["label"] not in labels:
                labels.append(str(w["label"]))
    h = f"h{level}"
    head = (
        f'<section id="{anchor}" aria-labelledby="{anchor}-h">'
        f'<{h} id="{anchor}-h">{esc(name)}</{h}>'
    )
    if not labels:
        return f'{head}<p class="muted">No measurement window in any run.</p></section>'
    run_labels = [_short(run, i) for i, run in enumerate(runs)]
    rate_series, p99_series, rows = [], [], []
    p99_all = []
    for k, label in enumerate(labels):
        rates: list[float | None] = []
        p99s: list[float | None] = []
        rate_cells, p99_cells = [], []
        for run in runs:
            e = _find(run, eid)
            w = next((w for w in e["windows"] if w["label"] == label), None) if e else None
            s = w["summary"] if w else None
            if s and s["n"]:
                rate = s["ok"] / s["n"]
                rates.append(r(rate * 100, 3))
                rate_cells.append(f"{esc(fmt.pct(rate))} <small>(n={s['n']})</small>")
            else:
                rates.append(None)
                rate_cells.append(fmt.DASH)
            p99 = s["latency_s"]["p99"] if s else None
            p99s.append(p99)
            p99_cells.append(esc(fmt.latency(p99)))
            if p99 is not None:
                p99_all.append(p99)
        rate_series.append(line(label, k % 4, rates))
        p99_series.append(line(label, k % 4, p99s))
        rows.append([esc(f"{label}: success rate"), *rate_cells])
        rows.append([esc(f"{label}: p99"), *p99_cells])
    scale, unit = (1.0, "s") if p99_all and max(p99_all) >= 1.0 else (1000.0, "ms")
    for series in p99_series:
        series["data"] = [r(v * scale) if v is not None else None for v in series["data"]]
    rate_chart = charts.figure(
        {
            "kind": "trend",
            "labels": run_labels,
            "x": {"title": "run (oldest first)"},
            "y": {"title": "success rate (%)", "max": 100},
            "series": rate_series,
        },
        "Success rate per window across runs (%)",
        f"Line chart of the success rate of each window of {name} across {len(runs)} runs; "
        "the table below holds the numbers.",
    )
    p99_chart = charts.figure(
        {
            "kind": "trend",
            "labels": run_labels,
            "x": {"title": "run (oldest first)"},
            "y": {"title": f"p99 ({unit})", "min": 0},
            "series": p99_series,
        },
        f"p99 latency per window across runs ({unit})",
        f"Line chart of the p99 latency of each window of {name} across {len(runs)} runs; "
        "the table below holds the numbers.",
    )
    numbers = table(
        ["Window", *run_labels],
        rows,
        caption="Success rate and p99 of each window in each run",
        numeric=[False, *[True] * len(runs)],
        css="wide",
    )
    return f'{head}<div class="charts">{rate_chart}{p99_chart}</div>{numbers}</section>'


def history_fragment(
    runs: Sequence[Mapping[str, Any]], charts: ChartSet, level: int, prefix: str = "h"
) -> tuple[str, str]:
    """The history's main content and its navigation list, for a page of ``level`` headings."""
    ordered = sort_runs(runs)
    names = _experiment_order(ordered)
    anchors = {eid: f"{prefix}-t{i + 1}" for i, eid in enumerate(names)}
    h = f"h{level}"
    findings = find_changes(ordered)
    main = [
        f'<section aria-labelledby="{prefix}-runs"><{h} id="{prefix}-runs">Runs</{h}>',
        _runs_table(ordered),
        "</section>",
        f'<section aria-labelledby="{prefix}-grid"><{h} id="{prefix}-grid">Verdicts</{h}>',
        _grid(ordered, names, anchors),
        "</section>",
        f'<section aria-labelledby="{prefix}-changes">',
        _findings(findings, names, level, f"{prefix}-changes")
        if len(ordered) > 1
        else f'<{h} id="{prefix}-changes">Changes</{h}><p>Only one run: nothing to compare.</p>',
        "</section>",
        f'<section aria-labelledby="{prefix}-trends"><{h} id="{prefix}-trends">Trends</{h}>',
        *(
            _trend(ordered, eid, name, charts, level + 1, anchors[eid])
            for eid, name in names.items()
        ),
        "</section>",
    ]
    flagged = sum(1 for f in findings if f.change == "regression")
    nav = (
        f'<li><a href="#{prefix}-runs">Runs</a></li>'
        f'<li><a href="#{prefix}-grid">Verdicts</a></li>'
        f'<li><a href="#{prefix}-changes">Changes ({flagged} flagged)</a></li>'
        f'<li><a href="#{prefix}-trends">Trends</a><ol>'
        + "".join(f'<li><a href="#{anchors[eid]}">{esc(n)}</a></li>' for eid, n in names.items())
        + "</ol></li>"
    )
    return "".join(main), nav


def render_history(runs: Sequence[Mapping[str, Any]]) -> str:
    """One self-contained page comparing ``runs`` (any order; sorted by start here)."""
    if not runs:
        raise ValueError("render_history needs at least one run")
    for i, run in enumerate(runs):
        check_results(run, f"runs[{i}]")
    ordered = sort_runs(runs)
    charts = ChartSet()
    main, nav = history_fragment(ordered, charts, 2)
    first, last = ordered[0]["run"]["started"], ordered[-1]["run"]["started"]
    return document(
        title="chaoskit resilience history",
        subtitle=f"{len(ordered)} runs, {fmt.timestamp(first)} to {fmt.timestamp(last)}",
        nav=f"<h2>Contents</h2><ol>{nav}</ol>",
        main=main,
        charts=charts.specs,
    )
