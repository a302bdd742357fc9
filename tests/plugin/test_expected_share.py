"""A check on the share of pages a fault reaches says what the routing in force predicts:
an abort on ratings with reviews unrouted reaches only the pages of v2 and v3."""

from __future__ import annotations

from pathlib import Path

import pytest

EXPERIMENT = '''
from __future__ import annotations

RATINGS = "Ratings service is currently unavailable"


def test_every_page_loses_its_ratings(chaos, load):
    """An abort on every call to ratings shows the ratings error on every page (it does
    not: reviews v1 never calls ratings)."""
    chaos.abort("ratings", 503)
    load.run(rate=30.0, duration="1s").share(text=RATINGS).at_least(0.95)
'''


def test_the_predicted_share_under_the_routing_in_force_is_shown(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_ratings=EXPERIMENT)
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}")
    result.stdout.fnmatch_lines(
        [
            "FAILED*test_every_page_loses_its_ratings*share of answered pages with 'Ratings service is "
            "currently unavailable'*predicted from the mesh config: 66.7% (under the routing in "
            "force: reviews v1 (33% of pages): 0%; reviews v2 (33% of pages): 100%; reviews v3 "
            "(33% of pages): 100%)*"
        ]
    )
