"""The report page from the fixture runs: structure, numbers, self-containment."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from chaoskit.report import fmt, render_history, render_report, render_runs, write_report
from chaoskit.report.summary import Score, counts
from tests.unit.report.helpers import chart_data, parse


@pytest.fixture
def page(latest: dict[str, Any]) -> str:
    return render_report(latest)


def test_one_section_per_experiment_in_order(page: str, latest: dict[str, Any]) -> None:
    sections = [
        a
        for tag, a in parse(page).tags
        if tag == "section" and "experiment" in (a.get("class") or "")
    ]
    assert [a["id"] for a in sections] == [f"r1-e{i}" for i in range(1, 6)]
    names = [e["name"] for e in latest["experiments"]]
    positions = [page.index(f'<span class="name">{n}</span>') for n in names]
    assert positions == sorted(positions)


def test_summary_comes_first_with_counts_and_score(page: str) -> None:
    main = page[page.index("<main") :]
    assert main.index("Summary") < main.index('class="experiment')
    # one experiment of each outcome; score = 1 / (1 + 1 + 1)
    for outcome in ("held", "failed", "inconclusive", "error", "skipped"):
        assert re.search(rf'<li class="tile t-{outcome}"><span class="tile-n">1</span>', main)
    assert '<span class="score-n">33%</span>' in main
    assert "held ÷ (held + failed + inconclusive) = 1 ÷ (1 + 1 + 1) = 33%" in main


def test_run_facts_are_shown(page: str, latest: dict[str, Any]) -> None:
    run = latest["run"]
    for text in (run["id"], run["git_commit"], "local", "1.28", "1 min 58 s", ">1<"):
        assert text in page


def test_a_cluster_run_shows_what_the_context_guard_verified(latest: dict[str, Any]) -> None:
    assert "Context guard" not in render_report(latest)  # the embedded mesh has none
    latest["run"]["mesh"].update(
        backend="kind",
        context="kind-chaoskit",
        guard="context kind-chaoskit (https://127.0.0.1:6443): kind cluster verified (…)",
    )
    page = render_report(latest)
    assert "Context guard" in page
    assert "kind cluster verified" in page


def test_each_experiment_shows_the_mesh_it_ran_on(latest: dict[str, Any]) -> None:
    first, second = latest["experiments"][:2]
    first["mesh"] = {"backend": "kube", "context": "chaoskit-embedded"}
    second["mesh"] = {"backend": "local", "context": None}
    page = render_report(latest)
    assert " · on the kube mesh (context <code>chaoskit-embedded</code>)</p>" in page
    assert " · on the local mesh</p>" in page
    assert page.count(" mesh (context ") == 1  # files without the key show nothing


def test_each_experiment_shows_the_data_plane_it_ran_in(latest: dict[str, Any]) -> None:
    first, second = latest["experiments"][:2]
    first["mesh"] = {"backend": "local", "context": None, "dataplane": "ambient"}
    second["mesh"] = {"backend": "local", "context": None, "dataplane": "sidecar"}
    page = render_report(latest)
    assert " · on the local mesh, ambient data plane</p>" in page
    assert " · on the local mesh, sidecar data plane</p>" in page


def test_score_rules() -> None:
    c = counts([{"outcome": o} for o in ("held", "held", "failed", "error", "skipped")])
    assert Score(c).value == pytest.approx(2 / 3)
    assert Score(counts([{"outcome": "error"}])).value is None


def test_experiment_content(page: str, latest: dict[str, Any]) -> None:
    failed = latest["experiments"][1]
    assert failed["hypothesis"] in page
    assert '<pre class="yaml"' in page
    assert "kind: VirtualService" in page
    for assertion in failed["assertions"]:
        assert assertion["explanation"] in page
    # exact window numbers, not the charts' merged ones
    fault = failed["windows"][1]["summary"]
    assert f'<td class="num">{fault["n"]:,}</td>' in page
    assert "Outlier ejections" in page
    assert "still ejected at the end" in page
    assert "outlier_detection.ejections_enforced_total" in page
    assert "no healthy upstream host" in page  # flag UH in words
    assert "No assertion was evaluated." in page  # the error experiment


def test_landmarks_and_language(page: str) -> None:
    tags = [tag for tag, _ in parse(page).tags]
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    for landmark in ("header", "nav", "main", "footer"):
        assert landmark in tags


def test_every_chart_has_a_name_and_a_spec(page: str) -> None:
    specs = chart_data(page)
    canvases = [a for tag, a in parse(page).tags if tag == "canvas"]
    assert len(canvases) == len(specs) == 3 + 3 + 1 + 3  # two series-less experiments
    for canvas in canvases:
        assert canvas["role"] == "img"
        assert canvas["aria-label"]
        assert canvas["data-chart"] in specs
    assert f'data-charts-total="{len(specs)}"' in page


def test_fault_windows_are_bands(page: str, latest: dict[str, Any]) -> None:
    specs = chart_data(page)
    exp = latest["experiments"][0]
    fault = exp["faults"][0]
    first = specs["chart-1"]
    assert first["bands"] == [
        {
            "from": round(fault["applied"] - exp["started"], 3),
            "to": round(fault["removed"] - exp["started"], 3),
            "label": "fault: delay",
            "open": False,
            "row": 0,
        }
    ]
    assert [s["label"] for s in first["series"]] == ["p50", "p99"]
    assert first["series"][0]["style"] != first["series"][1]["style"]  # not colour alone


def test_ejection_timeline(page: str) -> None:
    [timeline] = [s for s in chart_data(page).values() if s["kind"] == "timeline"]
    assert len(timeline["rows"]) == 2
    assert [b["open"] for b in timeline["bars"]] == [False, True]
    assert timeline["bars"][1]["to"] == timeline["x"]["max"]


def test_page_is_self_contained(page: str) -> None:
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "action", "data"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
    [policy] = [
        a["content"] for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy is not None
    assert policy.startswith("default-src 'none'; script-src 'sha256-")
    runnable = [text for attrs, text in parsed.scripts if "type" not in attrs]
    assert len(runnable) == 2  # Chart.js and the page script, nothing else
    for text in runnable:
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "Chart.js v4.6.1" in runnable[0]
    assert "sourceMappingURL" not in page


def test_long_series_are_downsampled_and_summaries_stay_exact(latest: dict[str, Any]) -> None:
    exp = latest["experiments"][1]
    window = exp["windows"][1]
    t0 = window["start"]
    window["series"] = [
        {"t": t0 + i * 0.1, "n": 5, "errors": i % 2, "p50": 0.01, "p99": 0.02 + (i == 4321)}
        for i in range(20_000)
    ]
    page = render_report(latest)
    for spec in chart_data(page).values():
        for series in spec.get("series", []):
            assert len(series["data"]) <= 300
    latency = chart_data(page)["chart-4"]["series"][1]["data"]
    assert max(y for _, y in latency if y is not None) == pytest.approx(1.02)  # spike kept, in s
    assert "merged to at most 300 points" in page
    assert f'<td class="num">{window["summary"]["n"]:,}</td>' in page


def test_empty_run_renders(latest: dict[str, Any]) -> None:
    latest["experiments"] = []
    page = render_report(latest)
    assert "This run holds no experiment." in page
    assert "n/a" in page


def test_several_runs_on_one_page(latest: dict[str, Any], older: dict[str, Any]) -> None:
    page = render_runs([older, latest])
    ids = [a["id"] for t, a in parse(page).tags if a.get("id")]
    assert len(ids) == len(set(ids))
    assert page.count("<article") == 2
    assert older["run"]["id"] in page
    assert latest["run"]["id"] in page


def test_report_with_history_section(latest: dict[str, Any], older: dict[str, Any]) -> None:
    page = render_report(latest, history=[older, latest])
    assert "History: 2 runs" in page
    assert "significant regression" in page
    ids = [a["id"] for t, a in parse(page).tags if a.get("id")]
    assert len(ids) == len(set(ids))


def test_write_report(tmp_path: Path, latest: dict[str, Any]) -> None:
    path = write_report(latest, tmp_path / "out" / "report.html")
    assert path.read_text(encoding="utf-8") == render_report(latest)


def test_rendering_is_deterministic(latest: dict[str, Any], older: dict[str, Any]) -> None:
    assert render_report(latest, history=[older]) == render_report(latest, history=[older])


def _judgement(explanation: str) -> dict[str, Any]:
    return {"verdict": "PASS", "explanation": explanation}


def test_fault_proof_in_words(latest: dict[str, Any]) -> None:
    """One fault: where it was found and the injected rate. Applied YAML with two faults:
    each with its own proof; a long list of carrying sidecars is cut."""
    faults = latest["experiments"][0]["faults"]
    faults[0]["proof"] = {
        "in_config": True,
        "sidecars": ["productpage-v1-abc"],
        "judgement": _judgement("observed abort rate 49.8% matches 50%: PASS"),
    }
    sidecars = [f"pod-{i}" for i in range(18)]
    faults[0:0] = [
        {
            **faults[0],
            "kind": "resources",
            "proof": {
                "in_config": True,
                "sidecars": sidecars,
                "judgement": None,
                "faults": [
                    {
                        "fault": "delay on 10% of route r1 to ratings.bookinfo",
                        "in_config": True,
                        "sidecars": sidecars,
                        "judgement": _judgement("observed delay rate 10.4% matches 10%: PASS"),
                    },
                    {
                        "fault": "abort on 5% of route r1 to ratings.bookinfo",
                        "in_config": True,
                        "sidecars": sidecars,
                        "judgement": _judgement("observed abort rate 5.6% matches 5%: PASS"),
                    },
                ],
            },
        }
    ]
    page = render_report(latest)
    assert "Proof: in the routes of 1 sidecar: productpage-v1-abc" in page
    assert "observed abort rate 49.8% matches 50%: PASS" in page
    assert (
        "Proof: delay on 10% of route r1 to ratings.bookinfo: in the routes of 18 sidecars: "
        "pod-0, pod-1, pod-2, pod-3 and 14 more"
    ) in page
    assert "observed delay rate 10.4% matches 10%: PASS" in page
    assert "observed abort rate 5.6% matches 5%: PASS" in page
    assert "pod-17" not in page


def test_a_predicted_latency_is_shown_with_its_unit(latest: dict[str, Any]) -> None:
    assertion = latest["experiments"][0]["assertions"][0]
    assertion.update(unit="seconds", predicted={"value": 6.0, "why": "two 3 s tries"})
    assert "predicted from the mesh config: 6 s (two 3 s tries)" in render_report(latest)


def test_a_cluster_runs_pre_flight_and_notices_are_shown(latest: dict[str, Any]) -> None:
    latest["experiments"][0]["planned_changes"] = ["replace VirtualService bookinfo/ratings"]
    latest["run"]["mesh"]["notices"] = ["journal .chaoskit/journal/r1.jsonl left in place"]
    page = render_report(latest)
    assert "Planned changes (pre-flight)" in page
    assert "<code>replace VirtualService bookinfo/ratings</code>" in page
    assert "journal .chaoskit/journal/r1.jsonl left in place" in page


def test_the_data_plane_mode_is_shown_when_recorded(latest: dict[str, Any]) -> None:
    # The fixture runs predate the field: no guess, a dash.
    assert f"<dt>Data plane</dt><dd>{fmt.DASH}</dd>" in render_report(latest)
    latest["run"]["mesh"].update(istio_version="1.29.6", dataplane="sidecar")
    page = render_report(latest)
    assert "<dt>Data plane</dt><dd>sidecar</dd>" in page
    assert "<dt>Istio version</dt><dd>1.29.6</dd>" in page


def test_every_data_plane_the_experiments_ran_in_is_named(latest: dict[str, Any]) -> None:
    """Under xdist the run's mesh is one worker's: the experiments' own planes count too."""
    latest["run"]["mesh"].update(dataplane="sidecar")
    latest["experiments"][-1]["mesh"] = {"backend": "local", "dataplane": "ambient"}
    assert "<dt>Data plane</dt><dd>sidecar, ambient</dd>" in render_report(latest)


def test_the_history_table_names_each_runs_istio_release(latest: dict[str, Any]) -> None:
    older = copy.deepcopy(latest)
    older["run"].update(id="older", started=latest["run"]["started"] - 86400)
    latest["run"]["mesh"].update(istio_version="1.30.3", dataplane="sidecar")
    page = render_history([older, latest])
    assert '<th scope="col">Istio</th>' in page
    assert "<td>1.30.3 sidecar</td>" in page
    assert f"<td>{older['run']['mesh']['istio_version']}</td>" in page  # no mode recorded
