"""The package facade and its dependency rule: the standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import chaoskit.stats

STATS = Path(chaoskit.stats.__file__).parent

# The brief's stdlib modules, plus the typing-only ones the code needs for annotations.
ALLOWED_STDLIB = {
    "__future__",
    "bisect",
    "collections",
    "dataclasses",
    "enum",
    "math",
    "random",
    "statistics",
    "typing",
}


def test_all_is_sorted_and_resolves() -> None:
    assert chaoskit.stats.__all__ == sorted(chaoskit.stats.__all__)
    assert len(set(chaoskit.stats.__all__)) == len(chaoskit.stats.__all__)
    for name in chaoskit.stats.__all__:
        assert hasattr(chaoskit.stats, name), name


# Public inside their modules as building blocks for the others, not part of the API.
NOT_EXPORTED = {"TailTable", "tail_table", "binomial_log_pmf", "resampled_quantile"}


def test_every_public_module_name_is_reexported() -> None:
    # A module's public function or class that the facade forgets is a hidden API.
    exported = set(chaoskit.stats.__all__)
    for path in STATS.glob("[!_]*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef | ast.ClassDef)
                and not node.name.startswith("_")
                and node.name not in NOT_EXPORTED
            ):
                assert node.name in exported, f"{path.name}: {node.name}"


def test_imports_only_the_standard_library() -> None:
    offenders = []
    for path in sorted(STATS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if module.startswith("chaoskit."):
                    if not (module.startswith("chaoskit.stats") or module == "chaoskit.errors"):
                        offenders.append(f"{path.name}: {module}")
                elif top not in ALLOWED_STDLIB or top not in sys.stdlib_module_names | {
                    "__future__"
                }:
                    offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_every_module_starts_with_future_annotations() -> None:
    for path in STATS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        first = next(
            node
            for node in tree.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        )
        assert isinstance(first, ast.ImportFrom), path.name
        assert first.module == "__future__", path.name
