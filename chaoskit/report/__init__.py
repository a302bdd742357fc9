"""HTML reports from ``results.json`` files (schema ``chaoskit.results/1``).

- :mod:`~chaoskit.report.load`: read and check results files.
- :mod:`~chaoskit.report.render`: one run (or several) as a self-contained page.
- :mod:`~chaoskit.report.history`: several runs as trends, with regressions flagged
  (the statistics are in :mod:`~chaoskit.report.trend`).

Pages embed their styles, scripts and the Chart.js library, and load nothing.
"""

from __future__ import annotations

from chaoskit.report.history import render_history
from chaoskit.report.load import check_results, load_history, load_results
from chaoskit.report.render import render_report, render_runs, write_page, write_report

__all__ = [
    "check_results",
    "load_history",
    "load_results",
    "render_history",
    "render_report",
    "render_runs",
    "write_page",
    "write_report",
]
