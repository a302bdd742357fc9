"""``mesh.json`` (MeshInfo) and the data plane `mesh up` and `mesh status` name from it."""

from __future__ import annotations

from chaoskit.commands.mesh import _plane_text
from chaoskit.controlplane.server import MeshInfo


def _info(ambient: tuple[str, ...]) -> MeshInfo:
    return MeshInfo(
        api_server="https://127.0.0.1:1",
        token="t",
        kubeconfig="/k",
        ingress_http="http://127.0.0.1:2",
        ingress_https="https://127.0.0.1:3",
        pid=1,
        state_dir="/s",
        istio_version="1.30.3",
        started_at=0.0,
        ambient_namespaces=ambient,
    )


def test_the_ambient_namespaces_survive_mesh_json() -> None:
    info = _info(("l4", "mesh"))
    assert MeshInfo.from_json(info.to_json()).ambient_namespaces == ("l4", "mesh")


def test_a_mesh_json_written_before_the_field_reads_as_all_sidecars() -> None:
    data = _info(()).to_json()
    del data["ambientNamespaces"]
    assert MeshInfo.from_json(data).ambient_namespaces == ()


def test_the_data_plane_is_named_per_namespace_when_both_run() -> None:
    assert _plane_text(_info(())) == "sidecar data plane"
    assert _plane_text(_info(("l4", "mesh"))) == (
        "ambient data plane in l4, mesh; sidecars elsewhere"
    )
