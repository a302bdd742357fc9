"""The mutation report as HTML: the scores, each mutant with every check it flipped to FAIL,
and each check of the suite with the mutants that flip it (``chaoskit mutate`` writes it
beside its runs, from the JSON it writes with ``-o``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaoskit.report.markup import esc, table
from chaoskit.report.page import document
from chaoskit.report.summary import badge

_KINDS = (("removal", "Removals"), ("partial", "Partial weakenings"))


def _score_tiles(scores: Mapping[str, Any]) -> str:
    tiles = []
    for kind, label in _KINDS:
        score = scores.get(kind) or {}
        if not score.get("mutants"):
            continue
        declared = score.get("declared_uncatchable") or 0
        tail = f", {declared} declared uncatchable" if declared else ""
        tiles.append(
            f'<li class="tile"><span class="tile-n">{score["score"]:.0%}</span> '
            f"{esc(label)}: {score['caught']} of {score['mutants']} caught{esc(tail)}, "
            f"{score['missed']} missed</li>"
        )
    return f'<ul class="tiles">{"".join(tiles)}</ul>'


def _verdict(mutant: Mapping[str, Any]) -> str:
    if mutant.get("caught"):
        caught = '<span class="verdict v-held"><span aria-hidden="true">✔</span> caught</span>'
        return caught + (" though declared" if mutant.get("declared_uncatchable") else "")
    if mutant.get("declared_uncatchable") is not None:
        return esc("declared uncatchable")
    missed = '<span class="verdict v-failed"><span aria-hidden="true">✘</span> missed</span>'
    return f"{missed} ({esc(mutant.get('outcome'))})"


def _flips(mutant: Mapping[str, Any]) -> str:
    items = [
        f"<li>{badge('FAIL')} <code>{esc(flip.get('site') or '?')}</code><br>"
        f"{esc(flip['check'])}</li>"
        for flip in mutant.get("flipped") or []
    ]
    notes = [
        f"<li>{esc(label)}: {esc(mutant[key])}</li>"
        for key, label in (("no_verdict", "no verdict"), ("declared_uncatchable", "declared"))
        if mutant.get(key)
    ]
    return f"<ul>{''.join(items + notes)}</ul>" if items or notes else "none"


def _short(experiment: str) -> str:
    return experiment.rsplit("::", 1)[-1]


def render_mutation_report(data: Mapping[str, Any]) -> str:
    """``data`` is ``MutationReport.to_json()``."""
    mutants = list(data.get("mutants") or [])
    checks = list(data.get("checks") or [])
    mutant_rows = [
        (
            f'{esc(m["operator"])} <span class="muted">({esc(m.get("kind", ""))})</span><br>'
            f'<span class="muted" title="{esc(m["experiment"])}">'
            f"{esc(_short(m['experiment']))}</span>",
            _verdict(m),
            _flips(m),
        )
        for m in mutants
    ]
    check_rows = [
        (
            f"<code>{esc(c['site'])}</code>",
            f'<code>{esc(c["source"])}</code><br><span class="muted">{esc(c["test"])}</span>',
            ", ".join(esc(op) for op in c.get("flipped_by") or [])
            or "<strong>no mutant</strong>"
            + ("" if c.get("ran") else " (not made by the unmodified suite)"),
        )
        for c in checks
    ]
    flipped = sum(bool(c.get("flipped_by")) for c in checks)
    minutes = float(data.get("duration_s") or 0.0) / 60
    main = [
        # The flipped checks are the long column; the mutant's names may wrap.
        "<style>table.mutants{table-layout:fixed;width:100%}table.mutants th,table.mutants td"
        "{overflow-wrap:anywhere}table.mutants thead th:nth-child(1){width:32%}"
        "table.mutants thead th:nth-child(2){width:12%}"
        "table.mutants ul{margin:0;padding-left:1.1rem}</style>",
        '<section aria-labelledby="scores-h"><h2 id="scores-h">Scores</h2>',
        _score_tiles(data.get("scores") or {}),
        f"<p>{flipped} of {len(checks)} checks flipped to FAIL by some mutant. A mutant run "
        "goes on past a failed check, so every check it flipped is listed, not only the "
        "first (which decides the outcome).</p></section>",
        '<section aria-labelledby="mutants-h"><h2 id="mutants-h">Mutants</h2>',
        table(
            ["mutant: operator, experiment", "verdict", "checks flipped to FAIL"],
            mutant_rows,
            caption="Each weakening on each experiment whose config it changes",
            css="mutants",
        ),
        "</section>",
        '<section aria-labelledby="checks-h"><h2 id="checks-h">Checks</h2>',
        table(
            ["check site", "statement", "flipped by"],
            check_rows,
            caption="Each check of the experiments, and the mutants that made it FAIL",
        ),
        "</section>",
    ]
    nav = (
        '<ul><li><a href="#scores-h">Scores</a></li><li><a href="#mutants-h">Mutants</a></li>'
        '<li><a href="#checks-h">Checks</a></li></ul>'
    )
    return document(
        title="chaoskit mutation report",
        subtitle=f"{len(mutants)} mutants, {len(checks)} checks, took {minutes:.1f} min",
        nav=nav,
        main="".join(main),
        charts={},
    )
