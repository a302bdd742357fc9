"""``chaoskit analyze --kubeconfig``: the files overlaid on a cluster's live Istio config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import HTTPBIN_SUBSETS, MeshHandle
from tests.e2e.test_analyze_live import WRONG_SUBSET


def test_a_cluster_named_by_kubeconfig_is_read_like_istioctls(
    mesh: MeshHandle, tmp_path: Path
) -> None:
    """With --kubeconfig (here the embedded mesh's, standing in for a cluster) the files
    are overlaid on that API server's live Istio config."""
    mesh.apply(HTTPBIN_SUBSETS)
    path = tmp_path / "vs.yaml"
    path.write_text(WRONG_SUBSET)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaoskit.cli",
            "analyze",
            str(path),
            "--kubeconfig",
            mesh.info.kubeconfig,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 79, result.stdout + result.stderr
    assert "DestinationRules for httpbin define subsets ['v1', 'v2']" in result.stdout
