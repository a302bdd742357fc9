"""A user's first steps, from the built package only: build the wheel and the sdist, install
the wheel into a fresh virtualenv in a temporary directory (no access to this source tree),
then ``chaoskit init``, ``pytest experiments/``, and ``chaoskit mesh up --detach`` /
``mesh down`` there.

The virtualenv is made with uv (a dev dependency) because pip takes minutes to install the
same wheels on these 2-core machines.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from chaoskit import __version__

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        cwd=out,
        env=dict(os.environ),
        timeout=300,
    )
    return out


def test_the_sdist_and_the_wheel_carry_the_samples_the_scaffold_and_the_license(
    dist: Path,
) -> None:
    wheel = zipfile.ZipFile(dist / f"chaoskit-{__version__}-py3-none-any.whl")
    names = set(wheel.namelist())
    assert "chaoskit/samples/seed/02-canary.yaml" in names
    assert "chaoskit/samples/bookinfo-gateway.yaml" in names  # a link in the tree: content here
    assert wheel.read("chaoskit/samples/bookinfo-gateway.yaml").startswith(b"# Istio's")
    assert "chaoskit/scaffold/files/experiments/test_bookinfo_routing.py" in names
    assert f"chaoskit-{__version__}.dist-info/licenses/LICENSE" in names
    metadata = wheel.read(f"chaoskit-{__version__}.dist-info/METADATA").decode()
    assert f"Version: {__version__}" in metadata
    assert "Classifier: Framework :: Pytest" in metadata
    with tarfile.open(dist / f"chaoskit-{__version__}.tar.gz") as sdist:
        members = {m.name for m in sdist.getmembers()}
    for path in ("LICENSE", "CHANGELOG.md", "chaoskit/samples/README.md", "pyproject.toml"):
        assert f"chaoskit-{__version__}/{path}" in members


def test_a_fresh_virtualenv_runs_init_the_experiments_and_the_mesh(
    dist: Path, tmp_path: Path
) -> None:
    if not UV.exists():
        pytest.skip("uv is not installed beside this Python: pip install -e '.[dev]'")
    venv = tmp_path / "venv"
    home = tmp_path / "home"
    project = tmp_path / "shop"
    home.mkdir()
    # The machine's settings (certificates, proxies, package index) stay; nothing that points
    # at this checkout or its virtualenv does.
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CHAOSKIT_HOME", "KUBECONFIG"}
    }
    env = {**inherited, "HOME": str(home), "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
    uv_env = {
        **inherited,
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache/uv")),
    }
    _run(
        [str(UV), "venv", "-q", "--python", sys.executable, str(venv)],
        cwd=tmp_path,
        env=uv_env,
        timeout=120,
    )
    wheel = dist / f"chaoskit-{__version__}-py3-none-any.whl"
    _run(
        [str(UV), "pip", "install", "-q", "--python", str(venv / "bin/python"), str(wheel)],
        cwd=tmp_path,
        env=uv_env,
        timeout=600,
    )
    python = str(venv / "bin/python")
    where = _run(
        [python, "-c", "import chaoskit; print(chaoskit.__file__)"],
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert where.startswith(str(venv)), where
    assert (
        _run(["chaoskit", "--version"], cwd=tmp_path, env=env, timeout=60)
        == f"chaoskit {__version__}\n"
    )

    init = _run(["chaoskit", "init", str(project)], cwd=tmp_path, env=env, timeout=60)
    assert "created   experiments/test_bookinfo_routing.py" in init

    run = _run([python, "-m", "pytest", "experiments/"], cwd=project, env=env, timeout=600)
    assert "2 passed" in run, run
    assert (project / "reports" / "latest" / "report.html").is_file()

    up = _run(["chaoskit", "mesh", "up", "--detach"], cwd=project, env=env, timeout=120)
    try:
        assert "ready" in up.lower(), up
    finally:
        _run(["chaoskit", "mesh", "down"], cwd=project, env=env, timeout=120)
