"""A user's Locust user class drives an experiment's load on the embedded mesh: the Bookinfo
locustfile of ``experiments/locustfiles/``, through the plugin, as a user would run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "experiments" / "locustfiles" / "bookinfo.py"

EXPERIMENTS = f'''
import pytest

LOCUSTFILE = {str(LOCUSTFILE)!r}


def test_jason_logs_in_and_gets_v2(chaos, load, chaos_samples):
    """Routed by the seed's rule, jason's pages come from reviews v2: the class logs in
    through Bookinfo's /login in on_start, as a Locust user does."""
    chaos.apply(chaos_samples / "seed" / "01-basic-routing.yaml")
    window = load.run(locustfile=LOCUSTFILE, user="Jason", users=6, duration="4s", label="jason")
    assert set(window.names()) == {{"login", "productpage (jason)"}}
    page = window.only(name="productpage (jason)")
    page.share(version="v2").at_least(0.9)
    page.success_rate().at_least(0.95)


def test_api_failures_are_seen_per_name(chaos, load):
    """Ratings aborts every call: the ratings API fails while the reviews API still
    answers (its page shows ratings unavailable); readers share the window."""
    chaos.abort("ratings", 503)
    window = load.run(
        locustfile=LOCUSTFILE, user=["ApiClient", "Reader"], users=20, duration="4s", label="api"
    )
    assert set(window.user_classes()) == {{"ApiClient", "Reader"}}
    by_name = window.only(user_class="ApiClient").by_name()
    assert set(by_name) == {{"api: reviews", "api: ratings"}}
    by_name["api: ratings"].success_rate().at_most(0.1)
    by_name["api: reviews"].success_rate().at_least(0.9)


def test_a_broken_locustfile_is_an_error_naming_file_and_line(chaos, load, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("from locust import FastHttpUser\\n\\nclass B(FastHttpUser)\\n    pass\\n")
    chaos.abort("ratings", 503)
    load.run(locustfile=str(broken), user="B", users=1, duration="1s")
'''


def test_a_user_class_drives_the_load_and_is_judged_per_name(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makefile(
        ".ini",
        pytest="[pytest]\naddopts = -p no:locust -p no:cacheprovider\nchaos_locust_csv = true\n",
    )
    pytester.makepyfile(test_traffic=EXPERIMENTS)
    report = tmp_path / "report"
    result = pytester.runpytest_subprocess(f"--chaos-report={report}", "-p", "no:randomly")
    outcomes = {
        e["name"]: e for e in json.loads((report / "results.json").read_text())["experiments"]
    }
    assert outcomes["test_jason_logs_in_and_gets_v2"]["outcome"] == "held", result.stdout.str()
    assert outcomes["test_api_failures_are_seen_per_name"]["outcome"] == "held", result.stdout.str()
    broken = outcomes["test_a_broken_locustfile_is_an_error_naming_file_and_line"]
    assert broken["outcome"] == "error"
    result.stdout.fnmatch_lines(["*broken.py does not import: SyntaxError*broken.py:3*"])
    # The abort of the broken run was rolled back all the same.
    (fault,) = broken["faults"]
    assert fault["removed"] >= fault["applied"]
    api = outcomes["test_api_failures_are_seen_per_name"]["windows"][0]
    table = {row["name"]: row for row in api["summary"]["by_name"]}
    assert table["api: ratings"]["failures"] == table["api: ratings"]["n"] > 0
    assert api["load"]["user_class"] == "bookinfo.py:ApiClient,Reader"
    assert set(api["summary"]["by_class"]) == {"ApiClient", "Reader"}
    # Locust's own CSV statistics of the window, beside results.json (ini chaos_locust_csv).
    stats = next(f for f in api["locust_csv"] if f.endswith("_stats.csv"))
    assert stats.startswith("locust/")
    text = (report / stats).read_text()
    assert text.startswith("Type,Name,Request Count,Failure Count")
    assert "api: ratings" in text
    page = (report / "report.html").read_text()
    assert page.count(">Requests by name<") == 2  # the per-name tables
    assert page.count(">Requests by name over time<") == 2  # and the per-name charts
