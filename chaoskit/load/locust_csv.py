"""Locust's own CSV statistics for one window, written by Locust's own writer.

``locust --csv PREFIX --csv-full-history`` writes ``PREFIX_stats.csv`` (a table per request
name and the Aggregated row), ``PREFIX_stats_history.csv`` (a row per name and second),
``PREFIX_failures.csv`` and ``PREFIX_exceptions.csv``. This runs the same
``locust.stats.StatsCSVFileWriter`` (locust 2.47.0, ``locust/stats.py``) on the worker's
(or the distributed master's) ``Environment``, so the files have Locust's columns and
Locust's numbers, for dashboards that already read them.

Locust's own ``main.py`` stops the writer greenlet and closes the files at shutdown; its
last rewrite can be up to a second old then. Here the files are rewritten once more after
the window, so ``_stats.csv`` holds the final totals.

Imported by the load worker and master only, after Locust.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import gevent
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV, StatsCSVFileWriter

__all__ = ["CsvExport", "SUFFIXES"]

SUFFIXES = ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")


class CsvExport:
    """Locust's CSV writer for ``environment``, running while the window runs."""

    def __init__(self, environment: Any, prefix: str) -> None:
        Path(prefix).parent.mkdir(parents=True, exist_ok=True)
        self.environment = environment
        self.prefix = prefix
        self.writer = StatsCSVFileWriter(
            environment, PERCENTILES_TO_REPORT, prefix, full_history=True
        )
        self.greenlet: Any = None

    def start(self) -> None:
        """Begin writing; call after the runner started (its start clears the stats)."""
        self.greenlet = gevent.spawn(self.writer.stats_writer)

    def finish(self) -> list[str]:
        """Stop the writer, write the final tables and a last history row, close the files;
        the paths written."""
        if self.greenlet is not None:
            self.greenlet.kill(block=True)
        # The history is append-only: one more row per name with the final totals.
        # Locust's own row writer (a private method: the columns stay Locust's).
        self.writer._stats_history_data_rows(self.writer.stats_history_csv_writer, time.time())
        self.writer.close_files()
        final = StatsCSV(self.environment, PERCENTILES_TO_REPORT)
        for suffix, write in (
            ("_stats.csv", final.requests_csv),
            ("_failures.csv", final.failures_csv),
            ("_exceptions.csv", final.exceptions_csv),
        ):
            with open(self.prefix + suffix, "w", newline="", encoding="utf-8") as stream:
                write(csv.writer(stream))
        return [self.prefix + suffix for suffix in SUFFIXES]
