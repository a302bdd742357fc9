"""A VirtualService routing to a subset no DestinationRule defines: Istio accepts it, so
chaoskit warns when it is applied (IST0101) and the window shows the callers' NC replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPERIMENT = '''
from __future__ import annotations

V4 = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v4}}]
"""


def test_reviews_v4(chaos, load):
    """Every page goes to reviews v4, which does not exist."""
    chaos.apply(V4)
    load.run(rate=20.0, duration="1s").success_rate().at_least(0.5)
'''


def test_a_missing_subset_is_warned_at_apply_and_its_nc_replies_are_evidence(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_v4=EXPERIMENT)
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}")
    result.stdout.fnmatch_lines(
        [
            "*ChaoskitWarning: VirtualService bookinfo/reviews routes to subset 'v4'*",
            "*warning: VirtualService bookinfo/reviews routes to subset 'v4' of reviews, which "
            "no DestinationRule defines (IST0101; defined: v1, v2, v3)*NC*",
        ]
    )
    (experiment,) = json.loads((tmp_path / "results.json").read_text())["experiments"]
    assert experiment["warnings"][0].startswith("VirtualService bookinfo/reviews")
    (window,) = experiment["windows"]
    assert window["summary"]["mesh_flags"]["NC"] > 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "no cluster: the route&#x27;s upstream cluster does not exist" in page or (
        "no cluster: the route's upstream cluster does not exist" in page
    )
