"""``chaoskit analyze`` as a user runs it: exit codes, formats, thresholds, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

VS_MISSING_SUBSET = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews-route, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v4}
"""


def chaoskit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", *args], capture_output=True, text=True, check=False
    )


@pytest.fixture
def missing_subset(tmp_path: Path) -> Path:
    path = tmp_path / "vs.yaml"
    path.write_text(VS_MISSING_SUBSET, encoding="utf-8")
    return path


def test_error_line_has_istioctl_shape_and_exit_79(missing_subset: Path) -> None:
    proc = chaoskit("analyze", "--mesh-spec", "default", str(missing_subset))
    assert proc.returncode == 79
    first = proc.stdout.splitlines()[0]
    assert first == (
        f"Error [IST0101] (VirtualService bookinfo/reviews-route {missing_subset}:8) "
        'Referenced host+subset in destinationrule not found: "reviews+v4"'
    )
    assert "at spec.http[0].route[0].destination.subset (document 1); fix:" in proc.stdout


def test_json_output_has_istioctls_fields_and_exits_0_like_istioctl(missing_subset: Path) -> None:
    proc = chaoskit("analyze", "--mesh-spec", "default", "-o", "json", str(missing_subset))
    # istioctl sets its exit code only for the log format (istioctl/pkg/analyze/analyze.go).
    assert proc.returncode == 0
    assert proc.stdout.startswith('[\n\t{\n\t\t"code"')  # Go's MarshalIndent with a tab
    [record] = json.loads(proc.stdout)
    assert list(record)[:6] == [
        "code",
        "documentationUrl",
        "level",
        "message",
        "origin",
        "reference",
    ]
    assert record["code"] == "IST0101"
    assert record["level"] == "Error"
    assert record["origin"] == "VirtualService bookinfo/reviews-route"
    assert record["reference"] == f"{missing_subset}:8"
    assert record["message"] == (
        'Referenced host+subset in destinationrule not found: "reviews+v4"'
    )
    assert record["documentationUrl"] == (
        "https://istio.io/latest/docs/reference/config/analysis/ist0101/"
    )
    assert (record["line"], record["path"]) == (8, "spec.http[0].route[0].destination.subset")
    assert record["fix"]
    yaml_proc = chaoskit("analyze", "--mesh-spec", "default", "-o", "yaml", str(missing_subset))
    assert yaml_proc.returncode == 0
    assert "code: IST0101" in yaml_proc.stdout


def test_failure_threshold(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        VS_MISSING_SUBSET.replace(
            "subset: v4}",
            "subset: v1}\n      weight: 3\n"
            "    - destination: {host: reviews, subset: v2}\n      weight: 1",
        ),
        encoding="utf-8",
    )
    dr = tmp_path / "dr.yaml"
    dr.write_text(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: reviews, namespace: bookinfo}\nspec:\n  host: reviews\n"
        "  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v2, labels: {version: v2}}\n",
        encoding="utf-8",
    )
    base = ("analyze", "--mesh-spec", "default", str(path), str(dr))
    assert chaoskit(*base).returncode == 0
    assert chaoskit(*base, "--failure-threshold", "Warning").returncode == 79
    assert "CK0101" not in chaoskit(*base, "--output-threshold", "Error").stdout
    bad = chaoskit(*base, "--failure-threshold", "Loud")
    assert bad.returncode == 1
    assert "unknown level 'Loud'" in bad.stderr


def test_bad_input_never_shows_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("kind: [", encoding="utf-8")
    (tmp_path / "bin.yaml").write_bytes(b"\x00\xff")
    proc = chaoskit("analyze", str(tmp_path), str(tmp_path / "absent.yaml"))
    assert proc.returncode == 65  # istioctl's ExitDataError for files it cannot parse
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "malformed YAML" in proc.stdout
    assert "binary" in proc.stdout
    assert "no such file or directory" in proc.stdout


def test_clean_run_says_so(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(VS_MISSING_SUBSET.replace(", subset: v4", ""), encoding="utf-8")
    proc = chaoskit("analyze", "--mesh-spec", "default", str(path))
    assert proc.returncode == 0
    assert (
        proc.stdout.strip()
        == "\u2714 No validation issues found when analyzing namespace: bookinfo."
    )


def test_findings_take_precedence_over_unreadable_files(
    tmp_path: Path, missing_subset: Path
) -> None:
    """istioctl returns 79 for findings first, and 65 only when nothing reached the threshold."""
    (tmp_path / "broken.yaml").write_text("kind: [", encoding="utf-8")
    base = ("analyze", "--mesh-spec", "default", str(tmp_path / "broken.yaml"))
    assert chaoskit(*base, str(missing_subset)).returncode == 79
    ok = tmp_path / "ok.yaml"
    ok.write_text(VS_MISSING_SUBSET.replace(", subset: v4", ""), encoding="utf-8")
    assert chaoskit(*base, str(ok)).returncode == 65
