"""pytester runs of the chaoskit plugin against a real embedded mesh.

Each test writes a small experiment file and its ini into a temporary directory and runs
pytest in a subprocess (the plugin comes from the installed entry point), so each run
starts its own mesh, as a user's would.
"""

from __future__ import annotations

import pytest

INI = """
[pytest]
addopts = -p no:locust -p no:cacheprovider
chaos_replicas = bookinfo/ratings-v1=2
"""


@pytest.fixture
def chaos_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".ini", pytest=INI)
    return pytester
