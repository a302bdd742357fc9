"""A missing tool is an error that says which, and the exact command to install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.cluster.tools import MissingTool, find
from chaoskit.errors import BackendError


def executable(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_found_tools_are_returned_with_their_paths(tmp_path: Path) -> None:
    kind = executable(tmp_path, "kind")
    assert find(["kind"], str(tmp_path)) == {"kind": str(kind)}


def test_every_missing_tool_is_named_with_its_install_command(tmp_path: Path) -> None:
    executable(tmp_path, "kubectl")
    with pytest.raises(MissingTool) as error:
        find(["kind", "kubectl", "istioctl"], str(tmp_path))
    assert isinstance(error.value, BackendError)
    assert [t.name for t in error.value.missing] == ["kind", "istioctl"]
    assert str(error.value) == (
        "required tools are missing:\n"
        "  kind (creates and deletes the cluster) is not on PATH; install it with:\n"
        "    go install sigs.k8s.io/kind@v0.31.0  (or: curl -Lo kind "
        "https://kind.sigs.k8s.io/dl/v0.31.0/kind-linux-amd64 && chmod +x kind && sudo mv kind "
        "/usr/local/bin/)\n"
        "  istioctl (installs Istio) is not on PATH; install it with:\n"
        "    curl -sL https://istio.io/downloadIstio | ISTIO_VERSION=1.28.10 sh - && "
        'export PATH="$PWD/istio-1.28.10/bin:$PATH"'
    )


def test_one_missing_tool_reads_as_one(tmp_path: Path) -> None:
    with pytest.raises(
        MissingTool,
        match=r"^a required tool is missing:\n  kubectl .*\n    curl -LO "
        r"https://dl\.k8s\.io/release/v1\.34\.3/bin/linux/amd64/kubectl",
    ):
        find(["kubectl"], str(tmp_path))


def test_a_non_executable_file_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "kind").write_text("not a program")
    with pytest.raises(MissingTool):
        find(["kind"], str(tmp_path))
