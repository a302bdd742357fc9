"""Pod logs: capped while the mesh runs, removed with it unless kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chaoskit.cli import main
from chaoskit.controlplane.logcap import cap_logs


def test_a_log_over_the_cap_is_rotated_and_an_appending_writer_keeps_writing(
    tmp_path: Path,
) -> None:
    live = tmp_path / "ratings-v1-abcde.bookinfo.log"
    small = tmp_path / "details-v1-abcde.bookinfo.log"
    small.write_bytes(b"x" * 10)
    with live.open("ab") as writer:  # a pod process holds its log open with O_APPEND
        writer.write(b"a" * 2000)
        writer.flush()
        assert cap_logs(tmp_path, max_bytes=1000) == [live]
        writer.write(b"after\n")
        writer.flush()
    assert live.read_bytes() == b"after\n"
    assert (tmp_path / (live.name + ".1")).read_bytes() == b"a" * 2000
    assert small.read_bytes() == b"x" * 10
    assert cap_logs(tmp_path, max_bytes=1000) == []  # the rotated copy is never rotated


def stopped_mesh(tmp_path: Path) -> Path:
    """A state directory whose mesh is gone, as after a crash, with its logs left."""
    state = tmp_path / "mesh"
    (state / "logs").mkdir(parents=True)
    (state / "pods").mkdir()
    for name in ("a.log", "a.access.jsonl", "b.log"):
        (state / "logs" / name).write_text("line\n")
    (state / "pods" / "a.json").write_text("{}")
    return state


def test_mesh_down_removes_the_meshs_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = stopped_mesh(tmp_path)
    assert main(["mesh", "down", "--state-dir", str(state)]) == 0
    assert not (state / "logs").exists()
    assert not (state / "pods").exists()
    assert "removed 4 log and boot files" in capsys.readouterr().out


def test_keep_logs_keeps_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = stopped_mesh(tmp_path)
    assert main(["mesh", "down", "--state-dir", str(state), "--keep-logs"]) == 0
    assert sorted(p.name for p in (state / "logs").iterdir()) == [
        "a.access.jsonl",
        "a.log",
        "b.log",
    ]
    assert f"logs kept in {state / 'logs'}" in capsys.readouterr().out


def test_chaoskits_own_tests_write_under_their_temporary_directory(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = Path(os.environ["CHAOSKIT_HOME"])
    assert home.is_relative_to(tmp_path_factory.getbasetemp())
