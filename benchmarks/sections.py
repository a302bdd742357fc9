"""Writing one benchmark's section of BENCHMARKS.md in place.

Each benchmark owns the text between its ``<!-- name:start -->`` and ``<!-- name:end -->``
markers; a rerun replaces that text and leaves every other section as it was.
"""

from __future__ import annotations

import os
from pathlib import Path


def replace_section(path: Path, section: str, start: str, end: str) -> None:
    """Put ``section`` (which begins with ``start`` and ends with ``end``) into ``path``,
    where the old section stood, or at the end of the file the first time."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        current = head + section + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(current)


def quietness(*loads: float) -> str:
    """Whether figures were taken on a quiet machine, from the 1-minute load averages seen
    around them, so a reader can weigh them."""
    cores = os.cpu_count() or 1
    if max(loads) <= cores:
        return f"{cores} cores, quiet: the load average stayed within the core count"
    return f"{cores} cores loaded by other work, so these are loaded-machine numbers"
