"""Experiment outcomes, their transport across xdist, results.json and the terminal summary.

An experiment's record rides on the teardown report's ``user_properties`` (JSON), which
xdist sends to the controller; the controller alone writes the results.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from chaoskit.plugin.exitcodes import exit_status
from chaoskit.plugin.state import RECORD, STATE, PluginState

PROPERTY = "chaoskit.experiment"
MESH_PROPERTY = "chaoskit.mesh"
OUTCOME_PROPERTY = "chaoskit.outcome"
# The experiment's place in the collection: xdist workers finish in any order, and the
# results keep the suite's.
ORDER_PROPERTY = "chaoskit.order"
# How pytest's terminal shows a failed report of an experiment that did not FAIL.
TEST_STATUS = {
    "inconclusive": ("inconclusive", "I", "INCONCLUSIVE"),
    "error": ("error", "E", "ERROR"),
}
INCONCLUSIVE_ERRORS = ("Inconclusive", "FaultNotInEffect")
VERDICT_WORDS = {
    "held": "HELD",
    "failed": "FAILED",
    "inconclusive": "INCONCLUSIVE",
    "error": "ERROR",
    "skipped": "SKIPPED",
}


def _is_inconclusive(call: pytest.CallInfo[None]) -> bool:
    excinfo = call.excinfo
    return excinfo is not None and type(excinfo.value).__name__ in INCONCLUSIVE_ERRORS


def _failure_outcome(call: pytest.CallInfo[None]) -> str:
    """A check that failed on evidence (an AssertionError, or ``pytest.fail``) is a FAIL;
    too little evidence is inconclusive; any other exception (a bad config, a crash) is an
    error: the experiment never reached a verdict, and the score leaves it out."""
    if _is_inconclusive(call):
        return "inconclusive"
    excinfo = call.excinfo
    if excinfo is not None and isinstance(excinfo.value, AssertionError | pytest.fail.Exception):
        return "failed"
    return "error"


def _is_abort(call: pytest.CallInfo[None]) -> bool:
    excinfo = call.excinfo
    return excinfo is not None and type(excinfo.value).__name__ == "RunAborted"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    record = item.stash.get(RECORD, None)
    if record is None:
        return
    if report.when == "setup" and report.failed:
        record.outcome, record.message = "error", _text(report)
        report.user_properties.append((OUTCOME_PROPERTY, record.outcome))
    elif report.when == "setup" and report.skipped:
        # A skip in a fixture (e.g. the mesh lacks a workload the experiment needs).
        record.outcome, record.message = "skipped", _skip_reason(report)
    elif report.when == "call":
        if report.skipped:
            record.outcome = "skipped"
        elif report.failed and _is_abort(call):
            # A safety stop, not evidence about the hypothesis: an error, and no more
            # experiments in this run.
            record.outcome, record.message = "error", _text(report)
            item.session.shouldstop = record.message
        elif report.failed:
            record.outcome = _failure_outcome(call)
            record.message = _text(report)
        report.user_properties.append((OUTCOME_PROPERTY, record.outcome))
    elif report.when == "teardown":
        if report.failed and record.outcome == "held":
            record.outcome = "inconclusive" if _is_inconclusive(call) else "error"
            record.message = _text(report)
        if report.failed:
            report.user_properties.append((OUTCOME_PROPERTY, record.outcome))
        record.duration_s = call.stop - record.started
        item.config.stash[STATE].pending.pop(item.nodeid, None)
        report.user_properties.append((PROPERTY, json.dumps(record.to_json(), default=str)))
        report.user_properties.append((ORDER_PROPERTY, _collection_index(item)))
        state = item.config.stash[STATE]
        mesh = run_mesh(state)
        if mesh is not None:
            report.user_properties.append((MESH_PROPERTY, json.dumps(mesh)))


def _collection_index(item: pytest.Item) -> int:
    # Every xdist worker collects the same items in the same order (xdist checks it).
    try:
        return item.session.items.index(item)
    except ValueError:
        return len(item.session.items)


def run_mesh(state: PluginState) -> dict[str, Any] | None:
    """The run's mesh for results.json: the session mesh (or the first other plane's, when
    only marked experiments ran), with every data plane experiments ran in."""
    others = {p: m for p, m in state.planes.items() if not isinstance(m, str)}
    if state.session is not None:
        mesh = state.session.mesh_description()
    elif state.closed_mesh is not None:
        mesh = dict(state.closed_mesh)
    elif others:
        mesh = next(iter(others.values())).mesh_description()
    else:
        return None
    if others:
        planes = [p for p in [mesh.get("dataplane"), *others] if p]
        mesh["dataplanes"] = list(dict.fromkeys(planes))
    return mesh


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return _text(report)


def _text(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(report.longrepr)[-2000:] if report.longrepr else ""


class ResultCollector:
    """Registered per config: keeps each experiment's record as its reports arrive (on the
    xdist controller, or in the only process)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        # Failed reports that are not an experiment's ERROR or INCONCLUSIVE: a FAILED
        # check, or a test that is not an experiment.
        self.other_failures = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and _outcome(report) not in TEST_STATUS:
            self.other_failures += 1
        if report.when != "teardown":
            return
        state = self.config.stash[STATE]
        for name, value in report.user_properties:
            if name == PROPERTY:
                state.results[report.nodeid] = json.loads(str(value))
            elif name == ORDER_PROPERTY:
                state.order[report.nodeid] = int(str(value))
            elif name == MESH_PROPERTY:
                state.mesh = json.loads(str(value))


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    if report.failed:
        return TEST_STATUS.get(_outcome(report) or "")
    return None


def _outcome(report: pytest.TestReport) -> str | None:
    # A collection error arrives as a CollectReport, which has no user_properties.
    for name, value in getattr(report, "user_properties", ()):
        if name == OUTCOME_PROPERTY:
            return str(value)
    return None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(STATE, None)
    if state is None or hasattr(config, "workerinput"):
        return
    if state.session is not None:  # teardown did not run (interrupted): roll back now
        state.session.close()
    for mesh in state.planes.values():  # the other data planes' meshes, likewise
        if not isinstance(mesh, str):
            mesh.close()
    for node_id, record in state.pending.items():  # never reached teardown: interrupted
        if record.outcome == "held":
            record.outcome, record.message = "error", "interrupted before the experiment ended"
        state.results.setdefault(node_id, record.to_json())
    state.pending.clear()
    if not state.results and not state.reporting:
        return
    from chaoskit.experiment.session import write_session_results

    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    last = len(state.order)
    in_suite_order = sorted(state.results, key=lambda node: state.order.get(node, last))
    state.results = {node: state.results[node] for node in in_suite_order}
    path = write_session_results(
        state.settings, state.started, state.mesh, list(state.results.values()), interrupted
    )
    state.written = str(path)
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath and Path(xmlpath).is_file():  # pytest's junitxml has written it by now
        from chaoskit.plugin.junit import rewrite

        rewrite(Path(xmlpath), {key: _summary(e) for key, e in state.results.items()})
    collector = config.pluginmanager.get_plugin("chaoskit-results")
    session.exitstatus = exit_status(
        session.exitstatus,
        (e["outcome"] for e in state.results.values()),
        collector.other_failures if isinstance(collector, ResultCollector) else 0,
        state.strict,
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.results:
        return
    write = terminalreporter.write_line
    terminalreporter.section("chaoskit experiments")
    for notice in state.mesh.get("notices") or []:  # e.g. a journal left for its own cluster
        write(f"note: {notice}")
    for experiment in state.results.values():
        lines = _summary(experiment).splitlines() or [""]
        write(lines[0])
        for line in lines[1:]:  # an ERROR's reason, e.g. which resource is invalid and why
            write(f"{'':<12} {line}")
        for change in experiment.get("planned_changes") or []:  # a cluster's blast radius
            write(f"{'':<12} planned: {change}")
        for warning in experiment.get("warnings") or []:  # e.g. a subset nothing defines
            write(f"{'':<12} warning: {warning}")
    if state.written:
        write(f"results: {state.written}")
        html = Path(state.written).with_name("report.html")
        if html.exists():
            write(f"report:  {html}")


def _predicted_text(entry: dict[str, Any]) -> str:
    predicted = entry["predicted"]
    value = predicted.get("value")
    shown = f"{value:.1%} " if entry.get("unit") == "rate" and isinstance(value, float) else ""
    return f"predicted from the mesh config: {shown}({predicted['why']})"


def _summary(experiment: dict[str, Any]) -> str:
    """The experiment's verdict, name and deciding evidence (continuation lines follow
    when an ERROR's reason spans several)."""
    word = VERDICT_WORDS.get(experiment["outcome"], experiment["outcome"].upper())
    evidence = _evidence(experiment)
    return f"{word:<12} {experiment['name']}" + (f" — {evidence}" if evidence else "")


# An ERROR's reason is shown whole up to this many lines (a long list of invalid fields).
REASON_LINES = 12


def _evidence(experiment: dict[str, Any]) -> str:
    """The deciding judgement: the first check that did not pass, with what would decide
    it when inconclusive; else the reason the experiment ended without a verdict; else the
    check the author marked as the headline, or the last one (experiments usually check
    the steady state first and what they are about last), and how many more passed."""
    assertions = experiment.get("assertions") or []
    for entry in assertions:
        if entry["verdict"] != "PASS":
            hint = str(entry.get("hint") or "")
            predicted = entry.get("predicted") or {}
            if predicted.get("why") and str(predicted["why"]) not in hint:
                hint = "; ".join(filter(None, [hint, _predicted_text(entry)]))
            return str(entry["explanation"]) + (f"; {hint}" if hint else "")
    if experiment["outcome"] != "held" and experiment.get("message"):
        lines = [line.rstrip() for line in str(experiment["message"]).splitlines()]
        lines = [line for line in lines if line.strip()]
        if len(lines) > REASON_LINES:
            lines = [*lines[: REASON_LINES - 1], f"… ({len(lines) - REASON_LINES + 1} more lines)"]
        return "\n".join(lines)
    if not assertions:
        return ""
    marked = [entry for entry in assertions if entry.get("headline")]
    headline = marked[-1] if marked else assertions[-1]
    more = len(assertions) - 1
    tail = f" (and {more} more check{'s' if more > 1 else ''} passed)" if more else ""
    return str(headline["explanation"]) + tail
