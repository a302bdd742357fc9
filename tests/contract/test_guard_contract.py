"""The context guard against real API servers on loopback: the fake cluster (kind or cloud
nodes) and the embedded mesh (local, by its own names). Non-loopback servers are only ever written into
kubeconfigs: the guard must refuse them before connecting, and the tests check it did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chaoskit.cluster.guard import UnsafeTarget, verify
from chaoskit.controlplane.launcher import MeshProcess
from tests.contract.fake_apiserver import FakeApiServer

FLAG = "--i-understand-this-is-not-kind"


def test_a_kind_cluster_passes_all_three_checks(fake: FakeApiServer) -> None:
    report = verify(fake.kubeconfig, "kind-fake")
    assert report.ok
    assert not report.overridden
    assert report.describe() == (
        f"context kind-fake ({fake.url}): kind cluster verified (context name kind-fake is "
        "kind-*; API server 127.0.0.1 is on loopback; all 1 node(s) have providerID kind://*)"
    )
    assert ("GET", "/api/v1/nodes") in fake.log


def test_the_current_context_is_used_when_none_is_named(fake: FakeApiServer) -> None:
    assert verify(fake.kubeconfig, None).context == "kind-fake"


def test_nodes_from_a_cloud_provider_are_refused(fake: FakeApiServer) -> None:
    fake.set_nodes("cloud")
    with pytest.raises(UnsafeTarget) as error:
        verify(fake.kubeconfig, "kind-fake")
    assert str(error.value) == (
        "refusing to run chaos against context 'kind-fake': it is not a local kind cluster "
        "(nor the embedded mesh)\n"
        "  - node spec.providerID is not kind://*: chaoskit-control-plane "
        "(gce://example-project/europe-west1-b/gke-prod-pool-1)\n"
        f"To run against it anyway, pass --mesh kube --kube-context kind-fake {FLAG}."
    )


def test_a_context_not_named_kind_is_refused_without_connecting(
    fake: FakeApiServer, tmp_path: Path
) -> None:
    config = fake.write_kubeconfig(tmp_path / "prod", "gke_prod_europe", fake.url)
    with pytest.raises(
        UnsafeTarget,
        match=r"context name 'gke_prod_europe' does not start with "
        r"'kind-'.*\n.*pass --mesh kube --kube-context gke_prod_europe "
        r"--i-understand-this-is-not-kind\.$",
    ):
        verify(config, "gke_prod_europe")
    assert fake.log == []


@pytest.mark.parametrize(
    "server",
    ["https://10.12.0.1:6443", "https://api.prod.example.com", "https://127.0.0.1.nip.io:6443"],
)
def test_an_api_server_off_loopback_is_refused_without_connecting(
    fake: FakeApiServer, tmp_path: Path, server: str
) -> None:
    config = fake.write_kubeconfig(tmp_path / "remote", "kind-remote", server)
    with pytest.raises(UnsafeTarget, match=rf"API server {server} is not on loopback"):
        verify(config, "kind-remote")  # a connection attempt would hang or fail differently


def test_the_override_needs_an_explicit_context(fake: FakeApiServer, tmp_path: Path) -> None:
    config = fake.write_kubeconfig(tmp_path / "prod", "gke_prod", fake.url)
    with pytest.raises(UnsafeTarget, match=rf"{FLAG} needs an explicit --kube-context NAME"):
        verify(config, None, allow_non_kind=True)
    assert fake.log == []


def test_the_override_with_an_explicit_context_allows_and_reports_it(
    fake: FakeApiServer, tmp_path: Path
) -> None:
    fake.set_nodes("cloud")
    config = fake.write_kubeconfig(tmp_path / "prod", "gke_prod", fake.url)
    report = verify(config, "gke_prod", allow_non_kind=True)
    assert report.overridden
    assert not report.ok
    assert [c.name for c in report.checks if not c.ok] == ["context name", "nodes"]
    assert report.describe().startswith(
        f"context gke_prod ({fake.url}): NOT a kind cluster, "
        f"allowed by {FLAG}: context name 'gke_prod'"
    )


@pytest.fixture(scope="module")
def embedded_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeshProcess]:
    process = MeshProcess.start(tmp_path_factory.mktemp("mesh"), seed=5)
    yield process
    process.stop()


def test_the_embedded_mesh_is_local_without_the_override(embedded_mesh: MeshProcess) -> None:
    report = verify(embedded_mesh.info.kubeconfig, None)
    assert report.ok
    assert not report.overridden
    assert report.describe().startswith("context chaoskit-embedded (https://127.")
    assert report.describe().endswith(
        ": embedded mesh verified (context name chaoskit-embedded is the embedded mesh's; "
        "API server 127.0.0.1 is on loopback; all 1 node(s) have providerID chaoskit://*)"
    )


def test_a_kind_context_leading_to_the_embedded_mesh_is_refused(
    embedded_mesh: MeshProcess, tmp_path: Path
) -> None:
    """The names must agree with the nodes: kind's context name does not vouch for
    chaoskit:// nodes, nor the embedded mesh's name for kind's."""
    text = Path(embedded_mesh.info.kubeconfig).read_text()
    config = tmp_path / "kubeconfig"
    config.write_text(text.replace("chaoskit-embedded", "kind-x"))
    with pytest.raises(UnsafeTarget, match=r"node spec.providerID is not kind://\*: .*chaoskit://"):
        verify(config, "kind-x")


def test_the_embedded_context_name_leading_to_a_cloud_cluster_is_refused(
    fake: FakeApiServer, tmp_path: Path
) -> None:
    fake.set_nodes("cloud")
    config = fake.write_kubeconfig(tmp_path / "e", "chaoskit-embedded", fake.url)
    with pytest.raises(UnsafeTarget, match=r"providerID is not chaoskit://\*: .*gce://"):
        verify(config, "chaoskit-embedded")
