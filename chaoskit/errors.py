"""Every error chaoskit raises, rooted at :class:`ChaoskitError`.

::

    ChaoskitError
    ├── ConfigError                      your input is wrong; names the field and the fix
    │   ├── ResourceLoadError            a file could not be read as Istio resources
    │   └── ResourceValidationError      a resource breaks Istio's rules (file, document, path)
    ├── BackendError                     the mesh or cluster could not do what was asked
    │   └── ReadinessTimeout             what was awaited, for how long, the last state seen
    └── EmulatorError                    a process of the embedded mesh failed

    ChaoskitWarning (UserWarning)        input that is valid but probably not what was meant
"""

from __future__ import annotations

from dataclasses import dataclass


class ChaoskitError(Exception):
    """Base class of every chaoskit error."""


class ConfigError(ChaoskitError):
    """The user's input is wrong; the message says where and how to fix it."""


class ChaoskitWarning(UserWarning):
    """Valid input that was probably meant otherwise (``percent=0.5`` meant as a fraction)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located defect in a resource file.

    ``path`` is the dotted field path inside the document (``spec.http[0].timeout``);
    ``line`` is 1-based, or ``None`` when the defect has no line (an empty file).
    """

    source: str
    document: int
    line: int | None
    path: str
    message: str
    kind: str = ""
    name: str = ""
    code: str = ""
    level: str = "Error"
    fix: str = ""

    def describe(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        what = f"{self.kind} {self.name!r}, " if self.kind else ""
        field = self.path or "whole document"
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{where} (document {self.document}, {what}{field}): {self.message}{fix}"


class ResourceLoadError(ConfigError, ValueError):
    """A file could not be read as YAML documents of Istio resources."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.describe() for p in problems))


class ResourceValidationError(ConfigError, ValueError):
    """A resource breaks a rule that Istio's validation enforces."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.describe() for p in problems))


class BackendError(ChaoskitError):
    """The mesh or cluster could not do what was asked."""


class ReadinessTimeout(BackendError, TimeoutError):
    """Something awaited did not become ready in time."""


class EmulatorError(ChaoskitError):
    """A process of the embedded mesh failed; never only logged."""
