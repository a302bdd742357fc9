"""The mutation report's page: per mutant the checks it flipped, per check the mutants that
flip it, every value escaped."""

from __future__ import annotations

from chaoskit.report.mutation import render_mutation_report

DATA = {
    "duration_s": 90.0,
    "scores": {
        "removal": {
            "score": 1.0,
            "caught": 1,
            "declared_uncatchable": 0,
            "missed": 0,
            "mutants": 1,
        },
        "partial": {
            "score": 0.0,
            "caught": 0,
            "declared_uncatchable": 1,
            "missed": 0,
            "mutants": 1,
        },
    },
    "mutants": [
        {
            "operator": "even-weights",
            "kind": "removal",
            "experiment": "experiments/test_canary.py::test_canary",
            "outcome": "failed",
            "caught": True,
            "declared_uncatchable": None,
            "no_verdict": None,
            "flipped": [
                {"site": "experiments/test_canary.py:39", "check": "[split] share 50% <b>: FAIL"},
                {"site": "experiments/test_canary.py:46", "check": "[flood] 503s: FAIL"},
            ],
        },
        {
            "operator": "raise-pending-limit",
            "kind": "partial",
            "experiment": "experiments/test_canary.py::test_canary",
            "outcome": "held",
            "caught": False,
            "declared_uncatchable": "HTTP/2: nothing waits",
            "no_verdict": None,
            "flipped": [],
        },
    ],
    "checks": [
        {
            "site": "experiments/test_canary.py:39",
            "test": "test_canary",
            "source": 'window.share(version="canary").matches(0.10, tolerance=0.04)',
            "bare_assert": False,
            "ran": True,
            "flipped_by": ["even-weights"],
        },
        {
            "site": "experiments/test_canary.py:40",
            "test": "test_canary",
            "source": "window.success_rate().at_least(0.99)",
            "bare_assert": False,
            "ran": True,
            "flipped_by": [],
        },
    ],
}


def test_the_page_lists_flips_per_mutant_and_mutants_per_check() -> None:
    page = render_mutation_report(DATA)
    assert "1 of 2 checks flipped to FAIL by some mutant" in page
    assert "[split] share 50% &lt;b&gt;: FAIL" in page  # escaped
    assert "<b>" not in page.split("<main", 1)[1]
    assert page.count("experiments/test_canary.py:46") == 1
    assert "declared: HTTP/2: nothing waits" in page
    checks = page.split('id="checks-h"', 1)[1]
    assert "window.success_rate().at_least(0.99)" in checks
    assert "<strong>no mutant</strong>" in checks
    assert "100%</span> Removals: 1 of 1 caught, 0 missed" in page
    assert "2 mutants, 2 checks, took 1.5 min" in page
