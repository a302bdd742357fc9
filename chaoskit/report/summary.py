"""A run's verdict counts, its resilience score, and the summary block at the top."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaoskit.report import fmt
from chaoskit.report.markup import esc

OUTCOMES = ("held", "failed", "inconclusive", "error", "skipped")
# A word and a symbol for each verdict, so colour is never the only cue.
ICONS = {
    "held": "✔",
    "failed": "✘",
    "inconclusive": "?",
    "error": "⚠",
    "skipped": "–",
    "PASS": "✔",
    "FAIL": "✘",
    "INCONCLUSIVE": "?",
}


def badge(outcome: str) -> str:
    """A verdict as icon + word in a styled span (the icon is hidden from screen readers)."""
    key = outcome if outcome in ICONS else "unknown"
    icon = ICONS.get(outcome, "•")
    return (
        f'<span class="verdict v-{esc(key.lower())}"><span aria-hidden="true">{icon}</span> '
        f"{esc(outcome)}</span>"
    )


@dataclass(frozen=True, slots=True)
class Score:
    """``held / (held + failed + inconclusive)``; ``None`` when nothing reached a verdict."""

    counts: Mapping[str, int]

    @property
    def decided(self) -> int:
        return self.counts["held"] + self.counts["failed"] + self.counts["inconclusive"]

    @property
    def value(self) -> float | None:
        return self.counts["held"] / self.decided if self.decided else None

    def formula(self) -> str:
        c = self.counts
        shown = fmt.pct(self.value, 0) if self.value is not None else "not defined"
        return (
            f"held ÷ (held + failed + inconclusive) = {c['held']} ÷ "
            f"({c['held']} + {c['failed']} + {c['inconclusive']}) = {shown}"
        )


def counts(experiments: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    seen = Counter(str(e["outcome"]) for e in experiments)
    return {outcome: seen.get(outcome, 0) for outcome in OUTCOMES}


def score(results: Mapping[str, Any]) -> Score:
    return Score(counts(results["experiments"]))


def data_planes(results: Mapping[str, Any]) -> list[str]:
    """Every data plane the run's experiments ran in, the session mesh's first. Each
    experiment records its own: under xdist the run's mesh is one worker's, which may not
    have run the other plane."""
    mesh = results["run"]["mesh"]
    planes = [mesh.get("dataplane"), *(mesh.get("dataplanes") or [])]
    planes += [(e.get("mesh") or {}).get("dataplane") for e in results["experiments"]]
    return [str(p) for p in dict.fromkeys(planes) if p]


def summary_block(results: Mapping[str, Any], level: int, prefix: str) -> str:
    """Counts, score with its formula, and the run's facts, as one ``<section>``."""
    run = results["run"]
    c = counts(results["experiments"])
    s = Score(c)
    h = f"h{level}"
    tiles = "".join(
        f'<li class="tile t-{o}"><span class="tile-n">{c[o]}</span> {badge(o)}</li>'
        for o in OUTCOMES
    )
    total = len(results["experiments"])
    score_text = fmt.pct(s.value, 0) if s.value is not None else "n/a"
    interrupted = (
        '<p class="notice" role="note"><strong>Interrupted:</strong> this run ended early '
        "(Ctrl-C or a crash); the results are partial.</p>"
        if run["interrupted"]
        else ""
    )
    mesh = run["mesh"]
    facts: list[tuple[str, str]] = [
        ("Run", str(run["id"])),
        ("Started", fmt.timestamp(run["started"])),
        ("Finished", fmt.timestamp(run["finished"])),
        ("Duration", fmt.duration(run["duration_s"])),
        ("Mesh backend", str(mesh["backend"])),
        ("Istio version", str(mesh["istio_version"] or fmt.DASH)),
        # Runs recorded before the data-plane mode was saved show a dash, not a guess.
        ("Data plane", ", ".join(data_planes(results)) or fmt.DASH),
        ("Kube context", str(mesh["context"] or fmt.DASH)),
        *([("Context guard", str(mesh["guard"]))] if mesh.get("guard") else []),
        *[("Notice", str(notice)) for notice in mesh.get("notices") or []],
        ("Seed", fmt.DASH if run["seed"] is None else str(run["seed"])),
        ("Duration scale", fmt.number(run["duration_scale"])),
        ("Git commit", str(run["git_commit"] or "not a git checkout")),
        ("chaoskit", str(run["chaoskit_version"] or fmt.DASH)),
        ("Python", str(run["python"] or fmt.DASH)),
        ("Arguments", " ".join(run["argv"]) or fmt.DASH),
    ]
    facts_html = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    return (
        f'<section class="summary" aria-labelledby="{prefix}-summary">'
        f'<{h} id="{prefix}-summary">Summary</{h}>{interrupted}'
        f'<div class="summary-grid"><div>'
        f'<p class="score"><span class="score-n">{esc(score_text)}</span> resilience score</p>'
        f'<p class="formula">Score = {esc(s.formula())}. Errors and skips are left out: '
        f"they mean the experiment did not reach a verdict, not that the mesh was or was "
        f"not resilient. Inconclusive counts against the score: thin evidence is never a "
        f"pass.</p>"
        f'<ul class="tiles" aria-label="Experiments by verdict, {total} in all">{tiles}'
        f'<li class="tile"><span class="tile-n">{total}</span> total</li></ul>'
        f'</div><dl class="facts">{facts_html}</dl></div></section>'
    )
