"""chaoskit's benchmarks: the budgets of ARCHITECTURE.md §6, each against a reference.

Run with ``make bench``; results go to ``BENCHMARKS.md``. Nothing here is a test: numbers
are measured and reported, never asserted.
"""

from __future__ import annotations
