"""The cluster tests' golden outputs name one Istio release, chosen through the same input a
user has (``CHAOSKIT_ISTIO_VERSION``, which ``--istio-version`` sets); tests of the default
clear it."""

from __future__ import annotations

import pytest

from chaoskit.cluster import pins

GOLDEN_ISTIO = "1.28.10"


@pytest.fixture(autouse=True)
def _golden_istio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pins.ISTIO_VERSION_ENV, GOLDEN_ISTIO)
