"""Shared pytest set-up for your chaoskit experiments (written by `chaoskit init`).

The chaoskit plugin loads by itself once chaoskit is installed. Its fixtures:
- ``chaos``: apply Istio YAML and inject faults; everything is rolled back after each test;
- ``load``: drive Locust load and return windows to judge;
- ``resources``: your Istio YAML folder (ini ``chaos_resources``), else the samples that
  ship with chaoskit; ``chaos_samples`` is always the shipped samples;
- ``chaos_mesh`` and ``experiment``: the mesh session and the current experiment's record.

Add your own fixtures here.
"""

from __future__ import annotations
