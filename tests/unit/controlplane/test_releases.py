"""The emulated Istio release: parsing, the default, and the retry fields that 1.26 added.

Tags read from istio/istio at commit 86c9f01fd735 (2026-08-22): newest GA patches 1.28.10,
1.29.6, 1.30.3; 1.31 only as 1.31.0-rc.0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.controlplane.compat import compat_for
from chaoskit.controlplane.compiler import Compiler
from chaoskit.errors import ConfigError
from chaoskit.experiment.session import version_mismatch
from chaoskit.mesh.releases import (
    DEFAULT_ISTIO,
    NEWEST_MINOR,
    SUPPORTED_MINORS,
    install_tag,
    parse_release,
)
from chaoskit.topology.spec import MeshSpec
from tests.unit.controlplane.test_compiler import PODS, _routes, _state
from tests.unit.controlplane.test_retry_hosts import HASHED_DR, ONE, _vs


def test_a_bare_minor_is_its_newest_known_patch() -> None:
    assert str(parse_release("1.28")) == "1.28.10"
    assert str(parse_release("v1.30")) == "1.30.3"
    assert str(parse_release("1.29.1")) == "1.29.1"
    assert str(parse_release("1.24")) == "1.24"  # patches before 1.28 are not tracked


def test_the_default_is_the_newest_supported_minor() -> None:
    # The game day's newest minor, the newest minor with a GA tag, and what a mesh gets unasked.
    assert SUPPORTED_MINORS[-1] == DEFAULT_ISTIO
    assert parse_release(DEFAULT_ISTIO).minor_version == NEWEST_MINOR
    assert compat_for().istio_version == compat_for(DEFAULT_ISTIO).istio_version


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1.31", "newer than the newest release chaoskit emulates (1.30.3"),
        ("1.31.0-rc.0", "pre-releases such as 1.31.0-rc.0 are not emulated"),
        ("1.17", "older than the oldest emulated release 1.18"),
        ("latest", "write major.minor or major.minor.patch"),
    ],
)
def test_a_version_that_cannot_be_emulated_says_why(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(".", r"\.")):
        parse_release(text)


def test_the_install_tag_is_a_patch_release() -> None:
    assert install_tag("1.29") == "1.29.6"
    assert install_tag("1.30.4") == "1.30.4"  # a patch newer than the table can be tried
    with pytest.raises(ConfigError, match=r"name a patch release to install, e\.g\. '1\.25\.0'"):
        install_tag("1.25")


def _retry(yaml_text: str, istio: str) -> tuple[float, bool]:
    [route] = _routes(Compiler(_state(yaml_text, istio=istio)), PODS[2])
    assert route.retry is not None
    return route.retry.backoff_base_s, route.retry.retry_previous_hosts


def test_backoff_and_retry_ignore_previous_hosts_are_read_from_1_26() -> None:
    """retry.go ConvertPolicy reads in.Backoff and in.RetryIgnorePreviousHosts @ 1.26.0 and
    neither @ 1.25.0: before, Envoy's 25 ms base and the hash policy's default held."""
    retries = "    retries: {attempts: 2, backoff: 200ms, retryIgnorePreviousHosts: true}"
    config = HASHED_DR + _vs(ONE, retries)
    assert _retry(config, "1.26") == (0.2, True)
    assert _retry(config, "1.25") == (0.025, False)


def test_remaining_gauges_are_tracked_until_1_28() -> None:
    """TrackRemaining: true @ 1.28.10, !DISABLE_TRACK_REMAINING_CB_METRICS (default true) @
    1.29.0 (pilot/pkg/networking/core/cluster_traffic_policy.go), on every cluster (these
    have no DestinationRule: applyConnectionPool runs for them too)."""
    tracked = {}
    for version in ("1.28", "1.29", "1.30"):
        compiler = Compiler(_state(istio=version))
        tracked[version] = {c.thresholds.track_remaining for c in compiler.clusters(PODS[2])}
    assert tracked == {"1.28": {True}, "1.29": {False}, "1.30": {False}}


def test_a_spec_names_its_release_and_the_option_overrides_it(tmp_path: Path) -> None:
    spec = MeshSpec.model_validate(
        {"apiVersion": "chaoskit.dev/v1alpha1", "kind": "MeshSpec", "spec": {}}
    )
    assert spec.spec.istio_version == DEFAULT_ISTIO  # unset: the default release
    assert spec.with_istio_version("1.28").spec.istio_version == "1.28"
    assert spec.with_istio_version(None) is spec
    bad = tmp_path / "mesh.yaml"
    bad.write_text(
        "apiVersion: chaoskit.dev/v1alpha1\nkind: MeshSpec\nspec: {istioVersion: '1.31'}\n"
    )
    with pytest.raises(ConfigError) as caught:
        MeshSpec.load(bad)
    message = str(caught.value)
    assert f"mesh spec {bad} is invalid" in message
    assert "spec.istioVersion" in message
    assert "newer than the newest release" in message


def test_a_cluster_on_another_minor_than_asked_is_a_notice() -> None:
    assert version_mismatch(None, "1.28.10") is None  # nothing asked, nothing to compare
    assert version_mismatch("1.30", "1.30.3") is None
    assert version_mismatch("1.30", "1.29.6") == (
        "--istio-version 1.30 was asked for, but the cluster's istiod runs 1.29.6"
    )
    assert version_mismatch("1.30", "unknown") is not None  # istiod's tag unreadable
