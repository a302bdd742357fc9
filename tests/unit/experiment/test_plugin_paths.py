"""How the plugin names an experiment's file in results.json."""

from __future__ import annotations

from pathlib import Path

from chaoskit.plugin.fixtures import _shown_path


def test_files_under_the_rootdir_are_relative_and_others_absolute() -> None:
    root = Path("/work/project")
    assert _shown_path(root / "experiments" / "test_x.py", root) == "experiments/test_x.py"
    # An experiment outside the rootdir (pytest /elsewhere/test_x.py) must not crash setup.
    assert _shown_path(Path("/elsewhere/test_x.py"), root) == "/elsewhere/test_x.py"
    assert _shown_path(None, root) == ""
