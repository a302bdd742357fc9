"""Where an experiment's checks are written: one *check site* per statement that settles a
verdict (``window.share(...).at_least(0.9)``, ``calls.assert_retried()``, a bare
``assert``), found by reading the experiment's source.

A site is what a reader of the experiment calls "a check": a loop that judges five pods
is one site, and ``latency(0.5).between(a, b)`` (two judgements) is one site. Results
record the site of each judgement (``ExperimentRecord.add_judgement``), so ``chaoskit
mutate`` can say which checks a mutant flipped, and the suite's coverage test can hold
every site of every experiment to having been flipped by something.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import FrameType

# Methods that settle a verdict: the metrics' (chaoskit.assertions) and, by prefix,
# every ``assert_*`` of request logs and ejection timelines.
VERDICT_METHODS = frozenset(
    {
        "at_least",
        "at_most",
        "matches",
        "between",
        "at_most_times",
        "dropped_at_most",
        "rose_at_most",
    }
)
SOURCE_CHARS = 160


@dataclass(frozen=True)
class CheckSite:
    file: str  # as results.json shows it (relative to the rootdir)
    test: str  # the test function
    line: int  # the statement's first line
    end_line: int
    source: str  # the statement, whitespace collapsed
    bare_assert: bool = False  # a plain ``assert``: it fails, but records no judgement

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def _is_verdict_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    name = node.func.attr
    return name in VERDICT_METHODS or name.startswith("assert_")


def _simple_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of ``body``, with compound ones (for, if, with) opened up."""
    found: list[ast.stmt] = []
    for statement in body:
        inner = [
            part
            for key in ("body", "orelse", "finalbody")
            for part in getattr(statement, key, None) or []
        ]
        if inner and not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(_simple_statements(inner))
        else:
            found.append(statement)
    return found


@lru_cache(maxsize=64)
def _parse(path: str, mtime_ns: int, shown: str) -> tuple[CheckSite, ...]:
    text = Path(path).read_text()
    tree = ast.parse(text, filename=path)
    sites: list[CheckSite] = []
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or not function.name.startswith("test"):
            continue
        for statement in _simple_statements(function.body):
            bare = isinstance(statement, ast.Assert)
            if not bare and not any(_is_verdict_call(n) for n in ast.walk(statement)):
                continue
            source = re.sub(r"\s+", " ", ast.get_source_segment(text, statement) or "")
            source = re.sub(r"([(\[]) | ([)\]])", r"\1\2", source)
            if len(source) > SOURCE_CHARS:
                source = source[: SOURCE_CHARS - 1] + "…"
            sites.append(
                CheckSite(
                    shown,
                    function.name,
                    statement.lineno,
                    statement.end_lineno or statement.lineno,
                    source,
                    bare,
                )
            )
    return tuple(sites)


def sites_in(path: Path, shown: str | None = None) -> tuple[CheckSite, ...]:
    """Every check site of the test functions in ``path`` (named ``shown`` in results)."""
    return _parse(str(path), path.stat().st_mtime_ns, shown or str(path))


def inventory(paths: list[Path], root: Path) -> list[CheckSite]:
    """Every check site of every ``test_*.py`` under ``paths`` (files or directories)."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("test_*.py")) if path.is_dir() else [path])
    found: list[CheckSite] = []
    for file in files:
        resolved = file.resolve()
        try:
            shown = resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            shown = resolved.as_posix()
        found.extend(sites_in(resolved, shown))
    return found


def site_at(sites: tuple[CheckSite, ...], line: int) -> CheckSite | None:
    for site in sites:
        if site.line <= line <= site.end_line:
            return site
    return None


def calling_site(shown: str) -> CheckSite | None:
    """The check site of the experiment file ``shown`` that is running now: the innermost
    frame in a test function of that file, mapped to the statement it is executing."""
    frame: FrameType | None = sys._getframe(1)
    suffix = "/" + shown.lstrip("/")
    while frame is not None:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if filename == shown or filename.endswith(suffix):
            try:
                site = site_at(sites_in(Path(frame.f_code.co_filename), shown), frame.f_lineno)
            except (OSError, SyntaxError):
                return None
            if site is not None:  # else a helper of the file: its caller made the check
                return site
        frame = frame.f_back
    return None
