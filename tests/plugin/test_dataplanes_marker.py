"""``@pytest.mark.dataplanes``: one experiment, one test id per data plane, each on a mesh
of that plane; results and the report name each run's plane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPERIMENT = '''
import pytest

REVIEWS_V2 = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
"""


@pytest.mark.dataplanes("sidecar", "ambient")
def test_ratings_abort_shows_on_every_page(chaos, load, chaos_dataplane, chaos_plane_mesh):
    """reviews v2 calls ratings; a 500 abort on ratings leaves every page without stars."""
    pods = chaos_plane_mesh.backend.pods("bookinfo", "app=ratings")
    assert {p.ambient for p in pods} == {chaos_dataplane == "ambient"}
    chaos.apply(REVIEWS_V2)
    chaos.abort("ratings", http_status=500)
    window = load.run(rate=10.0, duration="2s")
    window.share(text="Ratings service is currently unavailable").at_least(0.8)


@pytest.mark.dataplanes("ambient")
def test_a_second_ambient_experiment_reuses_the_ambient_mesh(chaos, chaos_plane_mesh):
    waypoints = chaos_plane_mesh.backend.pods("bookinfo", "gateway.networking.k8s.io/gateway-name")
    assert waypoints, "the ambient mesh has a waypoint in bookinfo"
    (tmp,) = {chaos_plane_mesh.workdir}
    print("WORKDIR", tmp)


def test_unmarked_runs_in_the_run_s_plane(chaos, chaos_dataplane, chaos_mesh, chaos_plane_mesh):
    assert chaos_dataplane == "sidecar" and chaos_plane_mesh is chaos_mesh
'''


def test_each_plane_is_its_own_test_on_its_own_mesh(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_planes=EXPERIMENT)
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}", "-v", "-s")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*test_ratings_abort_shows_on_every_page[[]sidecar[]] PASSED*",
            "*test_ratings_abort_shows_on_every_page[[]ambient[]] PASSED*",
        ]
    )
    # One ambient mesh for both ambient experiments: started once, in one work directory.
    assert len([line for line in result.outlines if "chaoskit-ambient" in line]) == 1
    results = json.loads((tmp_path / "results.json").read_text())
    planes = {e["id"].split("::")[1]: e["mesh"]["dataplane"] for e in results["experiments"]}
    assert planes == {
        "test_ratings_abort_shows_on_every_page[sidecar]": "sidecar",
        "test_ratings_abort_shows_on_every_page[ambient]": "ambient",
        "test_a_second_ambient_experiment_reuses_the_ambient_mesh[ambient]": "ambient",
        "test_unmarked_runs_in_the_run_s_plane": "sidecar",
    }
    assert results["run"]["mesh"]["dataplane"] == "sidecar"
    assert results["run"]["mesh"]["dataplanes"] == ["sidecar", "ambient"]
    ambient = next(e for e in results["experiments"] if e["id"].endswith("page[ambient]"))
    (fault,) = [f for f in ambient["faults"] if f["kind"] == "abort"]
    assert fault["proof"]["sidecars"]
    assert all(name.startswith("waypoint-") for name in fault["proof"]["sidecars"])
    html = (tmp_path / "report.html").read_text()
    assert "ambient data plane" in html
    assert "sidecar data plane" in html


def test_a_wrong_marker_stops_the_run_with_what_to_write(chaos_dir: pytest.Pytester) -> None:
    """Every misuse in one run (pytest reports each file's collection error)."""
    wrong = {
        "test_unknown": (
            '"sidecar", "sidekick"',
            "must list one or more of sidecar, ambient, ambient-l4 (not 'sidekick')",
        ),
        "test_empty": ("", "must list one or more of"),
        "test_twice": ('"ambient", "ambient"', "lists a plane twice"),
    }
    for name, (marker, _) in wrong.items():
        chaos_dir.makepyfile(
            **{
                name: f"import pytest\n\n@pytest.mark.dataplanes({marker})\n"
                "def test_x(chaos):\n    pass\n"
            }
        )
    chaos_dir.makepyfile(
        test_plain="import pytest\n\n@pytest.mark.dataplanes('ambient')\ndef test_x():\n    pass\n"
    )
    result = chaos_dir.runpytest_subprocess()
    assert result.ret != 0
    for name, (_, message) in wrong.items():
        result.stdout.fnmatch_lines([f"{name}.py::test_x: @pytest.mark.dataplanes(*{message}*"])
    result.stdout.fnmatch_lines(
        ["*test_plain.py::test_x: *needs an experiment (a test that uses the chaos fixture)*"]
    )
    result.stdout.no_fnmatch_line("*in pytest_generate_tests*")  # the message, no traceback
