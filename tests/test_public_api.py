"""The public facade is pinned: sorted, and every name resolves (httpx's guard)."""

from __future__ import annotations

import chaoskit
import chaoskit.analysis
import chaoskit.report


def test_all_is_sorted_and_resolves() -> None:
    for module in (chaoskit, chaoskit.analysis, chaoskit.report):
        assert module.__all__ == sorted(
            module.__all__,
        )
        assert all(hasattr(module, name) for name in module.__all__)
