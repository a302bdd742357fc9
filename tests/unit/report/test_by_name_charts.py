"""Per-request-name charts: a user-class window's series per name, from the Window that
recorded it through results.json to the page's chart specs."""

from __future__ import annotations

from typing import Any

from chaoskit.load import LoadProfile, RequestRecord
from chaoskit.observe import Window
from chaoskit.observe.window import OTHER_NAMES
from chaoskit.report import render_report
from tests.unit.report.helpers import chart_data, parse

START = 1_764_054_900.0


def _record(t: float, name: str, latency_s: float, status: int = 200) -> RequestRecord:
    return RequestRecord(
        t, t, latency_s, status, 100, "", None, 0, f"id-{t}-{name}", None, None, name=name
    )


def _window(names: list[str], seconds: int = 4) -> Window:
    records = [
        _record(START + s + i / 10, name, 0.01 * (k + 1), 503 if name == "pay" and i == 0 else 200)
        for s in range(seconds)
        for k, name in enumerate(names)
        for i in range(k + 1)  # name k sends k + 1 requests a second
    ]
    profile = LoadProfile(target="http://127.0.0.1:1", duration_s=float(seconds))
    return Window("mix", records, profile, START, START + seconds)


def _title(spec: dict[str, Any]) -> str:
    return str(spec.get("y", {}).get("title", ""))


def _run_with(latest: dict[str, Any], window: Window) -> dict[str, Any]:
    experiment = latest["experiments"][0]
    experiment["windows"] = [window.to_json()]
    return latest


def test_each_name_is_a_line_in_a_latency_and_a_throughput_chart(latest: dict[str, Any]) -> None:
    page = render_report(_run_with(latest, _window(["browse", "pay"])))
    specs = chart_data(page)
    per_name = [s for s in specs.values() if _title(s).startswith("p50 latency")]
    rps = [
        s for s in specs.values() if _title(s) == "requests per second" and len(s["series"]) == 2
    ]
    assert len(per_name) == len(rps) == 1
    # The busiest name first: pay sends twice a second, browse once.
    assert [s["label"] for s in per_name[0]["series"]] == ["pay", "browse"]
    # browse: 10 ms every second; pay: 20 ms twice a second (a 503 included).
    assert {p[1] for p in per_name[0]["series"][1]["data"]} == {10.0}
    assert {p[1] for p in rps[0]["series"][0]["data"]} == {2.0}
    assert "Requests by name over time" in page
    captions = [t for tag, t in parse(page).tags if tag == "canvas"]
    assert any("each request name in window mix" in (c.get("aria-label") or "") for c in captions)


def test_many_names_keep_the_eight_busiest_and_merge_the_rest() -> None:
    names = [f"n{k}" for k in range(10)]
    series = _window(names).series_by_name()
    # Name k sends k + 1 a second: n2..n9 are the busiest eight, n0 and n1 are merged.
    assert list(series) == [f"n{k}" for k in range(9, 1, -1)] + [OTHER_NAMES]
    assert sum(p["n"] for p in series[OTHER_NAMES]) == (1 + 2) * 4


def test_the_ninth_line_changes_style_not_only_colour(latest: dict[str, Any]) -> None:
    page = render_report(_run_with(latest, _window([f"n{k}" for k in range(9)])))
    [latency] = [s for s in chart_data(page).values() if _title(s).startswith("p50")]
    styles = [s["style"] for s in latency["series"]]
    assert styles == [0, 0, 0, 0, 1, 1, 1, 1, 2]


def test_a_path_load_has_no_per_name_charts(latest: dict[str, Any]) -> None:
    window = _window(["browse"])
    window.records = [_record(r.intended, "", r.latency_s) for r in window.records]
    page = render_report(_run_with(latest, window))
    assert "Requests by name over time" not in page


def test_locusts_csv_files_are_linked_beside_the_by_name_table(latest: dict[str, Any]) -> None:
    run = _run_with(latest, _window(["browse"]))
    run["experiments"][0]["windows"][0]["locust_csv"] = [
        "locust/t-w1-mix_stats.csv",
        "javascript:alert(1)//x.csv",
        "../outside_stats.csv",
    ]
    page = render_report(run)
    links = [a.get("href") for tag, a in parse(page).tags if tag == "a"]
    assert "locust/t-w1-mix_stats.csv" in links
    # Not a plain relative file name beside the report: shown, never linked.
    assert not [h for h in links if h and ("javascript" in h or ".." in h)]
    assert "<code>outside_stats.csv</code>" in page
