"""The pytest plugin as a user meets it: options, outcomes, rollback, results, xdist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPERIMENTS = '''
from __future__ import annotations

ABORT = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details, namespace: bookinfo}
spec:
  hosts: [details]
  http:
  - fault: {abort: {percentage: {value: 100}, httpStatus: 503}}
    route: [{destination: {host: details}}]
"""


def test_holds(chaos, load):
    """Bookinfo answers every page."""
    load.run(rate=60.0, duration="1s").success_rate().at_least(0.9)


def test_fails(chaos, load):
    """The details abort is visible (so this 'protection' check fails)."""
    chaos.abort("details", 503)
    window = load.run(rate=40.0, duration="1s")
    window.share(text="Sorry, product details are currently unavailable for this book.").at_most(0.01)


def test_is_inconclusive(chaos, load):
    """Too few requests to judge a 99.9% rate."""
    load.run(rate=5.0, duration="1s").success_rate().at_least(0.999)


def test_rollback_happened(chaos, chaos_mesh):
    """The previous experiments' faults are gone."""
    names = sorted(o["metadata"]["name"] for o in chaos_mesh.backend.list_objects() if o["kind"] == "VirtualService")
    assert names == ["bookinfo"], names
    chaos.apply(ABORT)
'''


def results(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((path / "results.json").read_text())


def test_options_are_listed_and_do_not_clash_with_locusts_plugin(
    chaos_dir: pytest.Pytester,
) -> None:
    result = chaos_dir.runpytest_subprocess("-p", "locust", "--help")
    assert result.ret == 0
    text = result.stdout.str()
    for option in (
        "--mesh={local,kind,kube}",
        "--kube-context",
        "--chaos-report=DIR",
        "--chaos-seed",
        "--chaos-duration-scale=F",
        "--chaos-mutation=NAME",
        "--chaos-abort-below=RATE",
        "--chaos-require-all",
        "--i-understand-this-is-not-kind",
        "--host=HOST",
    ):  # the last one is Locust's
        assert option in text, option


def test_a_bad_mutation_name_is_a_usage_error(chaos_dir: pytest.Pytester) -> None:
    result = chaos_dir.runpytest_subprocess("--chaos-mutation=drop-everything")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*drop-everything*is unknown; choose one of drop-timeout*"])


def test_outcomes_rollback_results_and_junit(chaos_dir: pytest.Pytester, tmp_path: Path) -> None:
    chaos_dir.makepyfile(test_experiments=EXPERIMENTS)
    report = tmp_path / "report"
    # An older supported release than the default: the option reaches the mesh (its info
    # reports what it emulates) and results.json.
    result = chaos_dir.runpytest_subprocess(
        f"--chaos-report={report}", "-p", "no:randomly", "--istio-version=1.29"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*chaoskit experiments*",
            "HELD*test_holds*success rate*PASS",
            "FAILED*test_fails*share of answered pages with*FAIL",
            "INCONCLUSIVE*test_is_inconclusive*INCONCLUSIVE*",
            "HELD*test_rollback_happened*",
            f"results: {report}/results.json",
            "*1 failed, 2 passed, 1 inconclusive*",
        ]
    )
    data = results(report)
    assert data["schema"] == "chaoskit.results/1"
    assert data["run"]["mesh"]["backend"] == "local"
    assert data["run"]["mesh"]["istio_version"] == "1.29.6"  # 1.29's newest patch
    assert data["run"]["mesh"]["dataplane"] == "sidecar"
    assert data["run"]["interrupted"] is False
    by_name = {e["name"]: e for e in data["experiments"]}
    assert [e["mesh"] for e in by_name.values()] == [
        {"backend": "local", "context": None, "dataplane": "sidecar"}
    ] * len(by_name)
    assert {n: e["outcome"] for n, e in by_name.items()} == {
        "test_holds": "held",
        "test_fails": "failed",
        "test_is_inconclusive": "inconclusive",
        "test_rollback_happened": "held",
    }
    failed = by_name["test_fails"]
    assert (
        failed["hypothesis"] == "The details abort is visible (so this 'protection' check fails)."
    )
    (fault,) = failed["faults"]
    assert fault["kind"] == "abort"
    assert fault["removed"] >= fault["applied"]
    assert fault["proof"]["judgement"]["verdict"] == "PASS"  # the abort did take effect
    assert "abort" in fault["yaml"]
    assert failed["windows"][0]["summary"]["n"] > 0
    assert any("fault.aborts_injected" in k for d in failed["stat_deltas"].values() for k in d)
    assert (report / "junit.xml").read_text().count("<testcase") == 4


def test_a_fault_that_never_applies_makes_the_experiment_inconclusive(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(
        test_scope='''
def test_scoped_to_nobody(chaos, load):
    """A delay for a user nobody logs in as: the experiment proves nothing."""
    chaos.delay("ratings", "1s", headers={"end-user": "nobody"})
    load.run(rate=20.0, duration="1s").success_rate().at_least(0.5)
'''
    )
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}")
    result.stdout.fnmatch_lines(
        ["*FaultNotInEffect: *no request took the faulted route*", "*1 inconclusive*"]
    )
    assert results(tmp_path)["experiments"][0]["outcome"] == "inconclusive"


def test_an_interrupted_run_rolls_back_and_still_writes_results(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(
        test_interrupt="""
def test_interrupted(chaos, chaos_mesh):
    chaos.abort("details", 503)
    raise KeyboardInterrupt
"""
    )
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    data = results(tmp_path)
    assert data["run"]["interrupted"] is True
    (experiment,) = data["experiments"]
    assert experiment["faults"][0]["removed"] is not None


def test_results_travel_from_xdist_workers(chaos_dir: pytest.Pytester, tmp_path: Path) -> None:
    chaos_dir.makepyfile(
        test_two="""
import pytest

@pytest.mark.parametrize("n", [1, 2])
def test_page(chaos, load, n):
    # The first one runs longer, so its worker reports it last.
    load.run(rate=40.0, duration=f"{5 - 2 * n}s").success_rate().at_least(0.5)
"""
    )
    result = chaos_dir.runpytest_subprocess("-n", "2", f"--chaos-report={tmp_path}")
    assert result.ret == 0, result.stdout.str()
    names = [e["name"] for e in results(tmp_path)["experiments"]]
    assert names == ["test_page[1]", "test_page[2]"]  # the suite's order, whoever finished first


MATRIX = '''
import pytest

RETRIES = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: bookinfo}
spec:
  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings, subset: v1}}]
    retries: {attempts: 3, retryOn: 5xx}
"""


@pytest.mark.parametrize("retries", [False, True], ids=["no-retries", "retries"])
@pytest.mark.parametrize("percent", [20, 50])
def test_aborts_are_not_retried(chaos, load, percent, retries):
    """An injected abort is answered by the caller's fault filter before the router:
    retries cannot hide it, so the success rate is 1 - abort share either way."""
    if retries:
        chaos.apply(RETRIES)
    chaos.abort("ratings", 503, percent=percent)
    expected = chaos.predict().success_rate("ratings", "bookinfo")
    window = load.run("/ratings/0", service="ratings.bookinfo:9080", rate=300.0, duration="2s")
    window.success_rate().matches(expected.value, tolerance=0.1, predicted=expected)
'''


def test_a_fault_matrix_gets_one_rollback_and_one_entry_per_case(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    chaos_dir.makepyfile(test_matrix=MATRIX)
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}")
    assert result.ret == 0, result.stdout.str()
    experiments = results(tmp_path)["experiments"]
    assert sorted(e["name"] for e in experiments) == [
        "test_aborts_are_not_retried[20-no-retries]",
        "test_aborts_are_not_retried[20-retries]",
        "test_aborts_are_not_retried[50-no-retries]",
        "test_aborts_are_not_retried[50-retries]",
    ]
    for experiment in experiments:
        assert all(f["removed"] is not None for f in experiment["faults"])
        (check,) = experiment["assertions"]
        assert check["predicted"]["value"] in (0.8, 0.5)


def test_the_abort_guard_rolls_back_at_once_and_stops_the_run(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    """A game-day safety rail: productpage failing every request drops the gateway's
    success rate below the floor, so the fault is removed during the window and the rest
    of the run does not start."""
    chaos_dir.makepyfile(
        test_abort="""
def test_breaks_the_page(chaos, load):
    chaos.replica_errors("productpage", rate=1.0)
    load.run(rate=50.0, duration="3s")


def test_never_runs(chaos):
    raise AssertionError("the run should have stopped")
"""
    )
    result = chaos_dir.runpytest_subprocess(
        f"--chaos-report={tmp_path}", "--chaos-abort-below=0.5", "-p", "no:randomly"
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*abort guard: the gateway's success rate * fell below the floor 0.5*"]
    )
    data = results(tmp_path)
    (experiment,) = data["experiments"]  # the second never started
    assert experiment["outcome"] == "error"
    assert "every fault was rolled back" in experiment["message"]
    assert experiment["faults"][0]["removed"] is not None


def test_kill_and_pool_squeeze_act_and_are_rolled_back(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    """``chaos.kill`` (default mode pod-deleted) deletes a replica; its ReplicaSet starts
    a replacement and callers barely notice (Istio's default retry policy covers the
    refused connects until the endpoint leaves EDS); ``chaos.pool_squeeze`` makes ratings'
    breaker shed concurrent calls (UO). The next experiment sees both undone."""
    chaos_dir.makepyfile(
        test_pods="""
def test_kill(chaos, chaos_mesh, load):
    before = {p.name for p in chaos_mesh.backend.pods("bookinfo", "app=ratings")}
    (pod,) = chaos.kill("ratings").pods
    after = {p.name for p in chaos_mesh.backend.pods("bookinfo", "app=ratings")}
    assert pod in before and pod not in after, (before, after)
    assert len(after) == len(before), after
    window = load.run("/ratings/0", service="ratings.bookinfo:9080", rate=100.0, duration="2s")
    window.success_rate().at_least(0.95)


def test_squeeze(chaos, load):
    chaos.pool_squeeze("ratings", max_connections=1, pending=1)
    chaos.replica_latency("ratings", "200ms", replicas=2)
    window = load.run("/ratings/0", service="ratings.bookinfo:9080", users=12, duration="2s")
    load.calls_to(window, "ratings").assert_breaker_tripped()


def test_after(chaos_mesh):
    pods = chaos_mesh.backend.pods("bookinfo", "app=ratings")
    assert all(p.running for p in pods), [(p.name, p.running) for p in pods]
    rules = [o for o in chaos_mesh.backend.list_objects() if o["kind"] == "DestinationRule"]
    ratings = [r for r in rules if r["spec"]["host"].split(".")[0] == "ratings"]
    assert not any("connectionPool" in str(r["spec"]) for r in ratings), ratings
"""
    )
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()[-3000:]
    kinds = {e["name"]: [f["kind"] for f in e["faults"]] for e in results(tmp_path)["experiments"]}
    # test_after uses no chaos fixture: it is a plain test, not an experiment.
    assert kinds == {"test_kill": ["kill"], "test_squeeze": ["pool", "replica-latency"]}


def test_an_experiment_runs_with_locusts_own_plugin_loaded(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """A user's project loads every installed pytest plugin, Locust's among them (its
    entry point imports Locust, which monkey-patches the interpreter): experiments must
    still run."""
    pytester.makefile(".ini", pytest="[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(
        test_user='''
def test_page(chaos, load):
    """Bookinfo answers."""
    load.run(rate=40.0, duration="1s").success_rate().at_least(0.9)
'''
    )
    result = pytester.runpytest_subprocess(f"--chaos-report={tmp_path}", "--trace-config")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*PLUGIN registered*pytest_locust*", "HELD*test_page*PASS"])


def test_skips_and_crashes_are_not_verdicts(chaos_dir: pytest.Pytester, tmp_path: Path) -> None:
    """An experiment needing a workload the mesh lacks is SKIPPED (not HELD); one that
    raises anything but a failed check (here: a file that does not exist) is an ERROR, not
    a FAILED verdict, so it never counts as evidence (nor as a caught mutant)."""
    chaos_dir.makepyfile(
        test_needs='''
import pytest

@pytest.mark.chaos(needs=["default/no-such-service"])
def test_needs_it(chaos, load):
    """Needs a workload this mesh does not run."""


def test_crashes(chaos):
    """Applies a file that is not there."""
    chaos.apply("no-such-file.yaml")
'''
    )
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*test_needs_it*does not run default/no-such-service*",
            "ERROR*test_crashes*no-such-file.yaml: no such file*",
        ]
    )
    outcomes = {e["name"]: e for e in results(tmp_path)["experiments"]}
    assert outcomes["test_needs_it"]["outcome"] == "skipped"
    assert "default/no-such-service" in outcomes["test_needs_it"]["message"]
    assert outcomes["test_crashes"]["outcome"] == "error"


def test_declared_uncatchable_weakenings_reach_the_results(
    chaos_dir: pytest.Pytester, tmp_path: Path
) -> None:
    """``chaos(uncatchable=...)`` lands in results.json for ``chaoskit mutate``; declaring a
    removal is an ERROR that says why, so the baseline of ``chaoskit mutate`` stops on it."""
    chaos_dir.makepyfile(
        test_declared='''
import pytest

@pytest.mark.chaos(uncatchable={"shift-weights": "cannot tell 80/20 from 90/10 at n=40"})
def test_declares(experiment):
    """Declares a partial weakening."""


@pytest.mark.chaos(uncatchable={"drop-timeout": "too hard"})
def test_declares_a_removal(experiment):
    """Declares what cannot be declared."""
'''
    )
    result = chaos_dir.runpytest_subprocess(f"--chaos-report={tmp_path}", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["HELD*test_declares", "ERROR*test_declares_a_removal*"])
    outcomes = {e["name"]: e for e in results(tmp_path)["experiments"]}
    assert outcomes["test_declares"]["outcome"] == "held"
    assert outcomes["test_declares"]["uncatchable"] == {
        "shift-weights": "cannot tell 80/20 from 90/10 at n=40"
    }
    assert outcomes["test_declares_a_removal"]["outcome"] == "error"
    assert "names 'drop-timeout', a removal" in outcomes["test_declares_a_removal"]["message"]


def test_an_istio_version_that_cannot_be_emulated_is_a_usage_error(
    chaos_dir: pytest.Pytester,
) -> None:
    result = chaos_dir.runpytest_subprocess("--istio-version=1.31")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--istio-version*1.31*newer than the newest release*"])
