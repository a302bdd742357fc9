"""Hostile values in a results file stay text: no element, attribute or script of theirs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chaoskit.report import render_history, render_report, render_runs
from chaoskit.report.markup import checked_script, esc, script_json
from tests.unit.report.helpers import chart_data, parse

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</script>")


def assert_inert(page: str) -> None:
    parsed = parse(page)
    scripts = parsed.scripts
    # Ours: Chart.js, the page script, and the JSON data block.
    assert len(scripts) == 3
    assert [a.get("type") for a, _ in scripts] == ["application/json", None, None]
    assert "alert(1)" not in "".join(text for attrs, text in scripts if "type" not in attrs)
    for tag, attrs in parsed.tags:
        assert tag not in ("img", "iframe", "object", "embed")
        for name in attrs:
            assert not name.startswith("on"), (tag, attrs)


def test_hostile_run_renders_inert(hostile: dict[str, Any]) -> None:
    page = render_report(hostile)
    assert_inert(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_hostile_values_reach_the_page_as_text(hostile: dict[str, Any]) -> None:
    page = render_report(hostile)
    text = (
        page.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#x27;", "'")
    )
    exp = hostile["experiments"]
    for value in (
        exp[0]["name"],
        exp[0]["faults"][0]["yaml"].split("\n")[14],  # the header match value
        exp[1]["message"],
        hostile["run"]["mesh"]["context"],
        hostile["run"]["id"],
    ):
        assert value in text


def test_hostile_chart_data_round_trips(hostile: dict[str, Any]) -> None:
    page = render_report(hostile)
    raw = next(text for attrs, text in parse(page).scripts if attrs.get("id") == "chart-data")
    assert "<" not in raw
    assert ">" not in raw
    assert "&" not in raw
    rows = [row for spec in chart_data(page).values() for row in spec.get("rows", [])]
    assert any(PAYLOADS[0] in row for row in rows)  # the host name, intact for the canvas


def test_hostile_history_and_multi_run_pages(
    hostile: dict[str, Any], latest: dict[str, Any]
) -> None:
    assert_inert(render_history([latest, hostile]))
    assert_inert(render_runs([hostile, latest]))
    assert_inert(render_report(latest, history=[hostile]))


def test_script_json_escapes_what_could_end_or_confuse_a_script() -> None:
    text = script_json({"a": "</script><!--&\u2028\u2029"})
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == {"a": "</script><!--&\u2028\u2029"}


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        script_json({"x": float("nan")})


def test_esc_quotes() -> None:
    assert esc("\"'<>&") == "&quot;&#x27;&lt;&gt;&amp;"


def test_checked_script_refuses_a_closing_tag() -> None:
    with pytest.raises(ValueError, match="cannot be inlined"):
        checked_script("var a = '</SCRIPT>';", "x.js")
