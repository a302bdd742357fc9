"""A pod that dies behind the mesh's back is never judged as a healthy mesh: the experiment
running at that moment ERRORs, one lost between experiments is reported before the next."""

from __future__ import annotations

import pytest

EXPERIMENTS = """
import os
import signal
import time

from chaoskit.controlplane.pods import pod_pids


def kill_behind_the_mesh(chaos_mesh, app):
    '''SIGKILL a pod process directly: no fault asked for it, so the mesh lost it.'''
    pod = chaos_mesh.backend.pods("bookinfo", f"app={app}")[0]
    os.kill(pod_pids(chaos_mesh.workdir / "mesh")[f"{pod.name}.{pod.namespace}"], signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not chaos_mesh.lost_pods():
        time.sleep(0.05)
    assert chaos_mesh.lost_pods(), "the killed pod was never reported lost"
    return pod.name


def test_1_a_pod_dies_during_the_experiment(chaos, chaos_mesh):
    kill_behind_the_mesh(chaos_mesh, "details")


def test_2_a_pod_dies_outside_any_experiment(chaos_mesh):
    kill_behind_the_mesh(chaos_mesh, "reviews")


def test_3_the_next_experiment_runs_on_a_whole_mesh(chaos, chaos_mesh):
    assert chaos_mesh.lost_pods() == []
    assert all(p.running for p in chaos_mesh.backend.pods("bookinfo"))
"""


def test_lost_pods_error_the_experiment_and_are_reported_between_experiments(
    chaos_dir: pytest.Pytester,
) -> None:
    chaos_dir.makepyfile(test_lost=EXPERIMENTS)
    result = chaos_dir.runpytest_subprocess("-p", "no:randomly", "-rE")
    out = result.stdout.str()
    # test 1 passes its own body, then ERRORs at teardown: its windows saw a broken mesh
    result.assert_outcomes(passed=3, errors=1)
    assert "ERROR at teardown of test_1_a_pod_dies_during_the_experiment" in out, out[-3000:]
    assert "the mesh lost 1 pod(s) during this experiment" in out
    assert "bookinfo" in out.split("during this experiment", 1)[1].split("\n", 1)[0]
    # the pod lost outside any experiment is named before the next one, then restarted
    assert (
        "note: before test_3_the_next_experiment_runs_on_a_whole_mesh: the mesh had lost 1" in out
    )
