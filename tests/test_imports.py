"""Import boundaries that import-linter cannot see: what a bare import drags in."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("gevent", "locust", "kubernetes", "aiohttp", "pydantic")


@pytest.mark.parametrize("module", ["chaoskit", "chaoskit.plugin", "chaoskit.cli"])
def test_cheap_modules_import_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, {module}; "
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


def test_every_module_starts_with_future_annotations(repo) -> None:  # type: ignore[no-untyped-def]
    offenders = []
    for path in sorted((repo / "chaoskit").rglob("*.py")):
        lines = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        body = "\n".join(lines)
        if "from __future__ import annotations" not in body:
            offenders.append(str(path.relative_to(repo)))
    assert offenders == []
