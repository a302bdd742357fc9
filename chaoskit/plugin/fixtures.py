"""The fixtures experiments use: ``chaos_mesh``, ``experiment``, ``chaos``, ``load``, and
``resources`` / ``chaos_samples`` (where the Istio YAML is)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chaoskit.errors import ChaoskitError
from chaoskit.plugin.state import RECORD, STATE

if TYPE_CHECKING:
    from chaoskit.experiment.chaos import Chaos
    from chaoskit.experiment.driver import LoadDriver
    from chaoskit.experiment.record import ExperimentRecord
    from chaoskit.experiment.session import ChaosSession, Settings


@pytest.fixture(scope="session")
def chaos_mesh(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosSession]:
    """The mesh for the whole session (the embedded mesh unless ``--mesh`` says otherwise)."""
    from chaoskit.experiment.session import ChaosSession

    state = request.config.stash[STATE]
    session = ChaosSession(state.settings, tmp_path_factory.mktemp("chaoskit"))
    state.session = session
    try:
        problem = ""
        try:
            session.backend  # start it now, so a broken mesh is a setup error  # noqa: B018
        except ChaoskitError as exc:
            problem = f"{_mesh_problem(session.settings.backend)}: {exc}"
        if problem:  # every experiment errors with this one line, not a traceback
            pytest.fail(problem, pytrace=False)
        yield session
    finally:
        session.close()
        state.closed_mesh = session.mesh_description()
        state.session = None


def _shown_path(path: Path | None, root: Path) -> str:
    """The experiment's file relative to the rootdir, or absolute when it lives elsewhere."""
    if path is None:
        return ""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _mesh_problem(mesh: str) -> str:
    if mesh == "local":
        return "the embedded mesh did not start"
    return (
        f"--mesh {mesh}: the cluster cannot be used (for kind: `chaoskit cluster up` creates "
        "kind-chaoskit; see docs/kind.md)"
    )


@pytest.fixture
def experiment(request: pytest.FixtureRequest) -> ExperimentRecord:
    """The record of this experiment: hypothesis (the docstring), faults, windows, verdicts."""
    from chaoskit.experiment.mutations import declared_uncatchable
    from chaoskit.experiment.record import ExperimentRecord

    item = request.node
    function = getattr(item, "function", None)
    state = request.config.stash[STATE]
    record = ExperimentRecord(
        id=item.nodeid,
        name=item.name,
        file=_shown_path(item.path, request.config.rootpath),
        hypothesis=inspect.cleandoc(function.__doc__ or "") if function else "",
        mutation=state.settings.mutation,
        keep_going=state.settings.mutation is not None
        or bool(request.config.getoption("--chaos-keep-going")),
    )
    item.stash[RECORD] = record
    state.pending[item.nodeid] = record
    # Checked once the record exists, so a bad declaration is an ERROR in the results too.
    for marker in item.iter_markers("chaos"):
        declared = marker.kwargs.get("uncatchable", {})
        record.uncatchable.update(declared_uncatchable(declared, item.nodeid))
    return record


@pytest.fixture
def chaos(
    chaos_plane_mesh: ChaosSession,
    chaos_dataplane: str,
    experiment: ExperimentRecord,
    request: pytest.FixtureRequest,
) -> Iterator[Chaos]:
    """Inject faults; everything is rolled back when the test ends, however it ends."""
    chaos_mesh = chaos_plane_mesh  # the mesh of this experiment's data plane
    marker = request.node.get_closest_marker("chaos")
    backend = chaos_mesh.settings.backend
    # Recorded before any skip: a dress rehearsal compares verdicts backend by backend.
    experiment.mesh = {
        "backend": backend,
        "context": chaos_mesh.context,
        "dataplane": chaos_dataplane,
    }
    only = [
        m.kwargs["embedded_only"]
        for m in request.node.iter_markers("chaos")
        if m.kwargs.get("embedded_only")
    ]
    if only and backend != "local":
        # Known before connecting: what the experiment checks cannot be judged on a cluster.
        pytest.skip(f"runs on the embedded mesh only, not on the {backend} mesh: {only[0]}")
    needs = [n for m in request.node.iter_markers("chaos") for n in m.kwargs.get("needs", ())]
    missing = _missing_workloads(chaos_mesh, needs)
    if missing:
        lacking = (
            f"the {backend} mesh does not run {', '.join(missing)}, which this experiment needs"
        )
        if request.config.getoption("--chaos-require-all"):
            # A game day must not go green by skipping what it was meant to test.
            pytest.fail(
                f"{lacking}; with --chaos-require-all that is an error: deploy it (`chaoskit "
                "cluster doctor` names what is missing), or mark the experiment "
                "chaos(embedded_only=REASON) if only the embedded mesh can judge it",
                pytrace=False,
            )
        spec = chaos_mesh.settings.spec
        runs = (
            f"the mesh spec {spec} does not declare it"
            if spec is not None
            else "the embedded mesh runs every workload of the seed templates"
        )
        pytest.skip(f"{lacking} ({runs})")
    generic = _generic_apps(chaos_mesh, _needed_apps(request))
    if generic:
        pytest.skip(
            f"needs the own behaviour of {', '.join(generic)}, whose pods run the generic "
            f"{GENERIC_APP} app here (a twin from `chaoskit mesh snapshot`)"
        )
    chaos_mesh.check_between_experiments(experiment.name)
    injector = chaos_mesh.chaos(experiment)
    if marker is not None and marker.kwargs.get("namespace"):
        injector.namespace = marker.kwargs["namespace"]
    before = chaos_mesh.stats_snapshot()
    lost: list[str] = []
    try:
        yield injector
    finally:
        try:
            lost = chaos_mesh.lost_pods()
            if lost:  # back first, or the rollback's wait for every proxy fails on them
                chaos_mesh.restart_lost()
        finally:  # the rollback runs whatever happened above
            try:
                chaos_mesh.finish(injector)
            finally:
                experiment.stat_deltas = chaos_mesh.stat_deltas(before, chaos_mesh.stats_snapshot())
    if lost:  # its windows were measured on a broken mesh: no verdict of it can stand
        pytest.fail(
            f"the mesh lost {len(lost)} pod(s) during this experiment, with no fault killing "
            f"them: {', '.join(lost)}; they were restarted for the next experiment",
            pytrace=False,
        )


# The twin's app (chaoskit mesh snapshot): it answers, with a settable latency and error
# rate, but has none of a real app's own behaviour (Bookinfo's calls, fortio's load API).
GENERIC_APP = "echo"


def _needed_apps(request: pytest.FixtureRequest) -> list[str]:
    return [n for m in request.node.iter_markers("chaos") for n in m.kwargs.get("needs_app", ())]


def _generic_apps(session: ChaosSession, needs: Iterable[str]) -> list[str]:
    """The workloads (``namespace/app`` or ``app``) whose running pods all run the generic
    app: an experiment that needs their own behaviour cannot be judged on them."""
    generic = []
    for need in needs:
        namespace, _, app = need.rpartition("/")
        pods = [p for p in session.backend.pods(namespace or None, f"app={app}") if p.running]
        if pods and all(p.containers == (GENERIC_APP,) for p in pods):
            generic.append(need)
    return generic


def _missing_workloads(session: ChaosSession, needs: Iterable[str]) -> list[str]:
    """The workloads (``namespace/app``, or ``app`` in any namespace) with no running pod."""
    missing = []
    for need in needs:
        namespace, _, app = need.rpartition("/")
        pods = session.backend.pods(namespace or None, f"app={app}")
        if not any(p.running for p in pods):
            missing.append(need)
    return missing


@pytest.fixture
def load(chaos_plane_mesh: ChaosSession, experiment: ExperimentRecord, chaos: Chaos) -> LoadDriver:
    """Send load (Locust in a child process) and get windows to judge."""
    from chaoskit.experiment.driver import LoadDriver

    chaos_mesh = chaos_plane_mesh

    settings = chaos_mesh.settings
    return LoadDriver(
        chaos_mesh.backend,
        experiment,
        chaos,
        scale=settings.duration_scale,
        seed=settings.seed,
        workdir=chaos_mesh.workdir / "load",
        abort_below=settings.abort_below,
        bookinfo=settings.spec is None,
        csv_dir=_locust_csv_dir(settings),
    )


def _locust_csv_dir(settings: Settings) -> Path | None:
    """Where Locust's CSV files go (ini chaos_locust_csv): locust/ beside results.json; a
    run that writes no report puts them in reports/locust/ under the rootdir."""
    if not settings.locust_csv:
        return None
    return (settings.report_dir or settings.root / "reports") / "locust"


@pytest.fixture(scope="session")
def chaos_samples() -> Path:
    """The Istio YAML that ships with chaoskit: ``bookinfo/`` (Istio's Bookinfo task
    resources), ``seed/`` (the traffic-management templates), ``istio-tasks/`` and
    ``protections/``, with the base state at the top (see its README.md)."""
    from chaoskit.samples import SAMPLES_DIR

    return SAMPLES_DIR


@pytest.fixture(scope="session")
def resources(request: pytest.FixtureRequest) -> Path:
    """Your Istio YAML folder (ini ``chaos_resources``), else :func:`chaos_samples`."""
    from chaoskit.plugin.options import resources_dir

    return resources_dir(request.config)
