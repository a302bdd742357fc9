"""The built-in mesh (Bookinfo + demo services) for the fidelity suite: Istio's tasks.

Each test starts from the base state of ``chaoskit/samples/`` (Bookinfo's subsets and
ingress, the demo subsets) and applies the task's resources on top.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

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


@pytest.fixture(scope="session")
def _bookinfo(embedded_mesh: Any) -> Bookinfo:
    # The built-in mesh (spec None), from the root conftest's factory.
    handle: Bookinfo = embedded_mesh(Bookinfo, seed=3)
    return handle


@pytest.fixture
def bookinfo(_bookinfo: Bookinfo) -> Bookinfo:
    _bookinfo.base()
    return _bookinfo
