"""The session's mesh spec with ``--chaos-spec``: the user's spec as given, or a copy with
replica overrides and a data-plane mode whose resources still resolve to the original's."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.errors import ConfigError
from chaoskit.experiment.session import derive_spec
from chaoskit.topology.spec import MeshSpec

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "shop" / "mesh.yaml"


def test_an_unchanged_spec_is_used_as_it_is(tmp_path: Path) -> None:
    assert derive_spec({}, tmp_path, "sidecar", EXAMPLE) == EXAMPLE


def test_a_copy_with_replicas_keeps_the_originals_resources(tmp_path: Path) -> None:
    path = derive_spec({"shop/cart": 5}, tmp_path, "sidecar", EXAMPLE)
    assert path is not None
    assert path.parent == tmp_path
    spec = MeshSpec.load(path)
    assert {w.name: w.replicas for w in spec.spec.workloads}["cart"] == 5
    assert spec.resource_files() == MeshSpec.load(EXAMPLE).resource_files()
    # The behaviour keys travel with the copy.
    assert spec.spec.workloads[0].app.settings["callMode"] == "parallel"


def test_an_override_names_a_workload_of_the_users_spec(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="chaos_replicas names unknown workloads: bookinfo/x"):
        derive_spec({"bookinfo/x": 2}, tmp_path, "sidecar", EXAMPLE)
