"""One experiment in several data planes: ``@pytest.mark.dataplanes("sidecar", "ambient")``.

The marker turns an experiment into one test per data plane (``test_x[sidecar]``,
``test_x[ambient]``), each judged on a mesh of its own: the run's own plane
(``--chaos-dataplane``, default sidecar) on the session mesh, every other plane on one
more embedded mesh, started when its first experiment needs it and kept for the session's
other experiments of that plane. An experiment learns its plane from the
``chaos_dataplane`` fixture (to check what legitimately differs, e.g. a ``sourceLabels``
match that a waypoint drops).

A real cluster runs one data plane: the experiment's other planes are skipped there, with
the plane the cluster runs (``chaoskit cluster up --ambient`` makes an ambient one).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from chaoskit.errors import ChaoskitError
from chaoskit.plugin.state import STATE

if TYPE_CHECKING:
    from chaoskit.experiment.session import ChaosSession

MARKER = "dataplanes"
# The start of the skip message of a plane the cluster does not run (the dress rehearsal
# allows it, as it allows embedded_only).
OTHER_PLANE = "the cluster runs the"
# Why an ambient run is skipped where only 127.0.0.1 binds (macOS without loopback aliases).
PORT_MODE_NO_AMBIENT = (
    "ambient needs a loopback address per pod, since ztunnel tells workloads apart by source "
    "IP; run it on Linux, or on macOS with `sudo ifconfig lo0 alias 127.N.0.M` per pod and "
    "--address-mode ip"
)


def planes_of(args: tuple[object, ...], where: str) -> list[str]:
    """The planes a ``dataplanes`` marker lists, checked; a clear error otherwise."""
    from chaoskit.experiment.session import DATAPLANES

    planes = [str(a) for a in args]
    wrong = [p for p in planes if p not in DATAPLANES]
    if not planes or wrong:
        pytest.fail(
            f"{where}: @pytest.mark.dataplanes{tuple(args)!r} must list one or more of "
            f"{', '.join(DATAPLANES)}" + (f" (not {', '.join(map(repr, wrong))})" if wrong else ""),
            pytrace=False,
        )
    if len(set(planes)) != len(planes):
        pytest.fail(
            f"{where}: @pytest.mark.dataplanes{tuple(args)!r} lists a plane twice", pytrace=False
        )
    return planes


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    where = metafunc.definition.nodeid
    planes = planes_of(marker.args, where)
    if "chaos_dataplane" not in metafunc.fixturenames:
        pytest.fail(
            f"{where}: @pytest.mark.dataplanes needs an experiment (a test that uses the "
            "chaos fixture)",
            pytrace=False,
        )
    metafunc.parametrize("chaos_dataplane", planes, indirect=True, ids=planes)


@pytest.fixture
def chaos_dataplane(request: pytest.FixtureRequest) -> str:
    """This experiment's data plane: its ``dataplanes`` parameter, else the run's."""
    settings = request.config.stash[STATE].settings
    plane = str(getattr(request, "param", settings.dataplane))
    if settings.backend != "local":  # a cluster runs the plane it runs
        session = request.getfixturevalue("chaos_mesh")
        running = str(session.mesh_description()["dataplane"])
        if not hasattr(request, "param"):
            return running
        if running != plane:
            # Recorded like any skipped experiment: the dress rehearsal compares them.
            record = request.getfixturevalue("experiment")
            record.mesh = {"backend": settings.backend, "context": session.context}
            record.mesh["dataplane"] = plane
            pytest.skip(
                f"{OTHER_PLANE} {running} data plane, not {plane} (a cluster runs one; "
                f"`chaoskit cluster up{' --ambient' if plane == 'ambient' else ''}` makes "
                f"a {plane} one)"
            )
    elif plane != "sidecar" and hasattr(request, "param"):
        session = request.getfixturevalue("chaos_mesh")
        if session.address_mode == "port":
            record = request.getfixturevalue("experiment")
            record.mesh = {"backend": settings.backend, "context": None, "dataplane": plane}
            pytest.skip(f"{PORT_MODE_NO_AMBIENT} (this run's embedded mesh is in port mode)")
    return plane


@pytest.fixture(scope="session")
def _chaos_other_planes(
    request: pytest.FixtureRequest,
) -> Iterator[dict[str, ChaosSession | str]]:
    """The embedded meshes of planes other than the run's, by plane (or why it failed)."""
    meshes: dict[str, ChaosSession | str] = {}
    request.config.stash[STATE].planes = meshes
    try:
        yield meshes
    finally:
        for mesh in meshes.values():
            if not isinstance(mesh, str):
                with contextlib.suppress(Exception):
                    mesh.close()  # kept in the dict: the results still describe it


@pytest.fixture
def chaos_plane_mesh(
    request: pytest.FixtureRequest,
    chaos_dataplane: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> ChaosSession:
    """The mesh this experiment runs on: ``chaos_mesh`` in the run's own data plane (and
    always on a real cluster), else that plane's own embedded mesh."""
    settings = request.config.stash[STATE].settings
    if settings.backend != "local" or chaos_dataplane == settings.dataplane:
        session: ChaosSession = request.getfixturevalue("chaos_mesh")
        return session
    from chaoskit.experiment.session import ChaosSession

    meshes: dict[str, ChaosSession | str] = request.getfixturevalue("_chaos_other_planes")
    mesh = meshes.get(chaos_dataplane)
    if mesh is None:
        mesh = ChaosSession(
            dataclasses.replace(settings, dataplane=chaos_dataplane),
            tmp_path_factory.mktemp(f"chaoskit-{chaos_dataplane}"),
        )
        try:
            mesh.backend  # start it now, so a broken mesh is a setup error  # noqa: B018
        except ChaoskitError as exc:
            mesh.close()
            mesh = f"the embedded mesh ({chaos_dataplane} data plane) did not start: {exc}"
        meshes[chaos_dataplane] = mesh
    if isinstance(mesh, str):  # every experiment of that plane errors with this one line
        pytest.fail(mesh, pytrace=False)
    return mesh
