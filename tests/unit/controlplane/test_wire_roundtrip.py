"""Every proxy config the experiments' Istio resources compile to survives the wire: what a
pod rebuilds from a full push equals what the control plane compiled (the pod's decoders
are built once per type, so each field type must decode as its hints say)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaoskit.controlplane.compiler import Compiler
from chaoskit.mesh.delta import ConfigState, delta_message, meta_text, resource_texts, upsert_body
from chaoskit.samples import SAMPLES_DIR
from tests.unit.controlplane.test_compiler import PODS, _state

RESOURCES = SAMPLES_DIR
FILES = sorted(RESOURCES.rglob("*.yaml"))


def test_the_corpus_is_found() -> None:
    # An empty parameter set would skip the test below without a word.
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(RESOURCES)))
def test_a_full_push_rebuilds_the_compiled_snapshot(path: Path) -> None:
    compiler = Compiler(_state(path.read_text()))
    for pod in PODS:
        compiled = compiler.snapshot(pod, 7)
        body = upsert_body({"meta": meta_text(compiled), **resource_texts(compiled)})
        rebuilt = ConfigState().apply(json.loads(delta_message(7, 1, True, body, [])))
        assert rebuilt == compiled, pod.name
