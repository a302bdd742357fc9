"""The Istio YAML that ships with chaoskit: Bookinfo's task resources, the traffic-management
templates and the protections the experiments apply (see README.md in this folder).

The plugin's ``resources`` fixture points here unless a project sets ``chaos_resources``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLES_DIR"]

SAMPLES_DIR = Path(__file__).resolve().parent
