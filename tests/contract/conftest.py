"""Fixtures for the cluster backend's contract tests: the fake API server and the embedded mesh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chaoskit.kube.client import KubeClient
from tests.contract.fake_apiserver import FakeApiServer


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeApiServer]:
    server = FakeApiServer().start(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def fake_client(fake: FakeApiServer) -> Iterator[KubeClient]:
    client = KubeClient.from_kubeconfig(str(fake.kubeconfig), fake.context, request_timeout_s=2.0)
    yield client
    client.close()
