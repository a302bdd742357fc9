"""Check sites: the statements of an experiment that settle a verdict, read from its source,
and the site a running check belongs to."""

from __future__ import annotations

from pathlib import Path

from chaoskit.experiment.check_sites import inventory, sites_in

EXPERIMENT = """
def helper(window):
    return window.share(version="v1")


def test_one(chaos, load):
    window = load.run(rate=10.0, duration="1s")
    window.success_rate().at_least(0.99)
    window.latency(0.5).between(
        "1s", "2s"
    )
    for pod in ["a", "b"]:
        window.share(where=lambda r, pod=pod: r.pod == pod).matches(0.5, tolerance=0.1)
    load.calls_to(window, "ratings").assert_retried()
    assert window.n > 0, "a bare assert"
    helper(window).at_most(0.5)


def not_a_test(window):
    window.success_rate().at_least(0.99)
"""


def test_every_statement_that_settles_a_verdict_is_a_site(tmp_path: Path) -> None:
    path = tmp_path / "test_it.py"
    path.write_text(EXPERIMENT)
    sites = sites_in(path, "experiments/test_it.py")
    assert [(s.line, s.end_line, s.bare_assert) for s in sites] == [
        (8, 8, False),
        (9, 11, False),
        (13, 13, False),  # one site for the loop's checks
        (14, 14, False),
        (15, 15, True),
        (16, 16, False),
    ]
    assert sites[1].source == 'window.latency(0.5).between("1s", "2s")'
    assert sites[0].id == "experiments/test_it.py:8"
    assert {s.test for s in sites} == {"test_one"}
    assert inventory([tmp_path], tmp_path) == list(sites_in(path, "test_it.py"))


LIVE = """from chaoskit.experiment.check_sites import calling_site


class Metric:
    def __init__(self, shown):
        self.shown = shown

    def at_least(self, limit):
        return calling_site(self.shown)


def test_live(shown):
    return Metric(
        shown
    ).at_least(0.5)
"""


def test_a_running_check_knows_its_site(tmp_path: Path) -> None:
    path = tmp_path / "test_live.py"
    path.write_text(LIVE)
    namespace: dict[str, object] = {}
    exec(compile(LIVE, str(path), "exec"), namespace)
    test_live = namespace["test_live"]
    assert callable(test_live)
    # The frame in ``at_least`` is in no test function: the test's statement is the site.
    site = test_live("test_live.py")
    assert site is not None
    assert (site.id, site.end_line) == ("test_live.py:13", 15)
    assert test_live("elsewhere/test_live.py") is None  # not the file that is running
