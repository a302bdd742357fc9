"""The share a VirtualService fault acts on, as Istio compiles it, in the experiment layer.

Istio's ``TranslateFault`` and ``translatePercentToFractionalPercent`` (istio/istio
pilot/pkg/networking/core/route/route.go, tag 1.28.9, commit
4c6838d7f5b97e2e3bc80c7492e99e6707e61ca4): ``percentage`` is truncated to parts per
million, a delay falls back to the deprecated integer ``percent``, and a missing share is 0.
"""

from __future__ import annotations

from typing import Any

import pytest

from chaoskit.controlplane.routes import per_million
from chaoskit.experiment.chaos import Chaos, FaultNotInEffect, _faults_in
from chaoskit.experiment.faults import configured_percent
from chaoskit.experiment.predict import Predictor
from chaoskit.experiment.record import ExperimentRecord
from chaoskit.istio.common import Percent


@pytest.mark.parametrize(
    ("kind", "spec", "percent"),
    [
        ("delay", {"percent": 50, "fixedDelay": "1s"}, 50.0),  # deprecated field honoured
        ("delay", {"percentage": {"value": 20}, "percent": 50, "fixedDelay": "1s"}, 20.0),
        ("delay", {"fixedDelay": "1s"}, 0.0),
        ("abort", {"httpStatus": 503}, 0.0),  # no percentage: no request aborted
        ("abort", {"percent": 50, "httpStatus": 503}, 0.0),  # abort has no integer percent
        ("abort", {"percentage": {}, "httpStatus": 503}, 0.0),
        ("abort", {"percentage": {"value": 12.34567}, "httpStatus": 503}, 12.3456),  # truncated
    ],
)
def test_configured_percent_matches_the_compiler(
    kind: str, spec: dict[str, Any], percent: float
) -> None:
    assert configured_percent(kind, spec) == pytest.approx(percent)


def test_the_compiler_truncates_percentages_like_istio() -> None:
    assert per_million(Percent(value=12.34567), None) == 123456  # round() would give 123457


def _vs(fault: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "VirtualService",
        "metadata": {"name": "ratings", "namespace": "bookinfo"},
        "spec": {
            "hosts": ["ratings"],
            "http": [
                {"name": "r", "fault": fault, "route": [{"destination": {"host": "ratings"}}]}
            ],
        },
    }


def test_applied_yaml_is_described_and_proved_at_the_compiled_rate() -> None:
    [delay] = _faults_in(_vs({"delay": {"percent": 50, "fixedDelay": "1s"}}), {})
    assert delay.percent == 50.0
    assert "on 50% of route r" in delay.description


def test_an_abort_without_percentage_proves_nothing_and_says_why() -> None:
    [abort] = _faults_in(_vs({"abort": {"httpStatus": 503}}), {})
    assert abort.percent == 0.0
    chaos = Chaos(None, "run", ExperimentRecord("t", "t", "t.py", ""))  # type: ignore[arg-type]
    with pytest.raises(FaultNotInEffect, match=r"0% of requests.*percentage.value"):
        chaos.prove(abort)


def test_the_predictor_uses_the_compiled_rate() -> None:
    vs = _vs({"delay": {"percent": 50, "fixedDelay": "1s"}, "abort": {"httpStatus": 503}})
    route = Predictor([vs]).route("ratings", "bookinfo", {})
    assert (route.delay_share, route.abort_share) == (0.5, 0.0)
