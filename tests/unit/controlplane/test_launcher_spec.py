"""Which spec a mesh runs is remembered even on a machine where no mesh ran yet."""

from __future__ import annotations

from pathlib import Path

from chaoskit.controlplane.launcher import record_spec, recorded_spec


def test_a_first_mesh_up_with_a_spec_records_it_in_a_new_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "home" / "mesh"  # `chaoskit mesh up --spec` before any mesh ran
    spec = tmp_path / "mesh.yaml"
    spec.write_text("kind: MeshSpec\n")
    record_spec(state, spec)
    assert recorded_spec(state) == spec.resolve()
    record_spec(state, None)
    assert recorded_spec(state) is None
