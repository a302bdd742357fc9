"""``chaoskit cluster pins [NAME]``: what a workflow reads the Istio release from."""

from __future__ import annotations

import pytest

from chaoskit.cli import main
from chaoskit.cluster import pins


def test_one_name_prints_its_value_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "pins", "istio"]) == 0
    assert capsys.readouterr().out == f"{pins.istio_version()}\n"


def test_the_istio_release_follows_the_same_variable_cluster_up_reads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(pins.ISTIO_VERSION_ENV, "1.29.6")
    assert main(["cluster", "pins", "istio"]) == 0
    assert capsys.readouterr().out == "1.29.6\n"


def test_without_a_name_every_pin_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "pins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["istio", "kind", "kind-node-image", "kubectl"]
    assert lines[1].split()[1] == pins.KIND_VERSION
