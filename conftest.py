"""Fixtures shared by the experiment suite and chaoskit's own tests: pytest loads this file
for ``pytest tests/`` and ``pytest experiments/`` alike.

It holds one thing: a session-wide factory of embedded meshes, which the end-to-end and
fidelity suites both need (each on its own spec and seed). A fixture nobody requests does
nothing, and the import happens only when a mesh is asked for, so ``pytest experiments/``
(whose mesh the chaoskit plugin owns) is untouched by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from chaoskit.controlplane.launcher import MeshProcess


class Handle(Protocol):
    def close(self) -> None: ...


H = TypeVar("H", bound=Handle)
StartMesh = Callable[..., Any]


@pytest.fixture(scope="session")
def embedded_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartMesh]:
    """``embedded_mesh(Handle, spec=PATH | None, seed=N, istio_version=None)``: a running
    embedded mesh wrapped in ``Handle(process)``, started once per session (and xdist worker)
    for each (handle, spec, seed, Istio release), closed and stopped when the session ends,
    however it ends."""
    started: dict[tuple[object, str, int, str | None], tuple[MeshProcess, Handle]] = {}

    def start(
        wrap: Callable[[MeshProcess], H],
        *,
        spec: Path | None = None,
        seed: int = 0,
        istio_version: str | None = None,
    ) -> H:
        from chaoskit.controlplane.launcher import MeshProcess

        key = (wrap, str(spec), seed, istio_version)
        if key not in started:
            process = MeshProcess.start(
                tmp_path_factory.mktemp("mesh"), spec=spec, seed=seed, istio_version=istio_version
            )
            try:
                started[key] = (process, wrap(process))
            except BaseException:
                process.stop()
                raise
        handle = started[key][1]
        return handle  # type: ignore[return-value]

    try:
        yield start
    finally:
        for process, handle in reversed(list(started.values())):
            try:
                handle.close()
            finally:
                process.stop()
