from __future__ import annotations

import pytest

from tests.portmode.netns import unavailable


@pytest.fixture(scope="session")
def mac_like_loopback() -> None:
    """Skip, with the reason, where a namespace with only 127.0.0.1 cannot be made."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(f"no loopback with only 127.0.0.1: {reason}")
