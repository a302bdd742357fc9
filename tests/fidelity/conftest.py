"""The built-in mesh (Bookinfo + demo services) for the fidelity suite: Istio's tasks.

Each test starts from the base state of ``chaoskit/samples/`` (Bookinfo's subsets and
ingress, the demo subsets) and applies the task's resources on top.

Releases: every test runs on the default Istio release; a test marked ``release_sensitive``
(it exercises behaviour that changed between releases: retries, timeouts, mirroring, circuit
breaking) runs on every other supported minor too, each release on its own mesh.
``CHAOSKIT_FIDELITY_ISTIO=1.29`` runs the whole suite on that one release instead.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from chaoskit.mesh.releases import DEFAULT_ISTIO, SUPPORTED_MINORS
from chaoskit.topology.spec import MeshSpec
from tests.e2e.conftest import MeshHandle

RESOURCES = Path(__file__).resolve().parent.parent.parent / "chaoskit" / "samples"


class Bookinfo(MeshHandle):
    def base(self) -> None:
        self.reset()
        for path in MeshSpec.default().resource_files():
            self.apply(path.read_text())

    def apply_file(self, relative: str) -> None:
        self.apply((RESOURCES / relative).read_text())

    def session(self, user: str | None = None) -> requests.Session:
        session = requests.Session()
        if user is not None:
            response = session.post(
                f"{self.info.ingress_http}/login",
                data={"username": user, "passwd": "password"},
                allow_redirects=False,
                timeout=10,
            )
            assert response.status_code == 302
        return session

    def page(self, session: requests.Session | None = None) -> tuple[str, float]:
        client = session or self.http
        started = time.monotonic()
        response = client.get(f"{self.info.ingress_http}/productpage", timeout=30)
        assert response.status_code == 200
        return response.text, time.monotonic() - started


RELEASE_ENV = "CHAOSKIT_FIDELITY_ISTIO"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "release_sensitive: behaviour that changed between Istio releases; the fidelity "
        "test runs on every supported minor, not only the default",
    )


def releases(sensitive: bool) -> list[str]:
    forced = os.environ.get(RELEASE_ENV, "").strip()
    if forced:
        return [forced]
    others = [minor for minor in SUPPORTED_MINORS if minor != DEFAULT_ISTIO]
    return [DEFAULT_ISTIO, *(others if sensitive else [])]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "istio_release" in metafunc.fixturenames:
        sensitive = metafunc.definition.get_closest_marker("release_sensitive") is not None
        metafunc.parametrize(
            "istio_release",
            releases(sensitive),
            indirect=True,
            scope="session",
            ids=lambda version: f"istio-{version}",
        )


@pytest.fixture(scope="session")
def istio_release(request: pytest.FixtureRequest) -> str:
    """The Istio release the test's mesh emulates (parametrized above)."""
    return str(request.param)


@pytest.fixture(scope="session")
def _bookinfo(embedded_mesh: Any, istio_release: str) -> Bookinfo:
    # The built-in mesh (spec None), from the root conftest's factory: one per release.
    handle: Bookinfo = embedded_mesh(Bookinfo, seed=3, istio_version=istio_release)
    assert handle.info.istio_version.startswith(istio_release)  # the mesh runs that release
    return handle


@pytest.fixture
def bookinfo(_bookinfo: Bookinfo) -> Bookinfo:
    _bookinfo.base()
    return _bookinfo
