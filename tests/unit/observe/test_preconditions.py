"""A precondition is a guard, not a check: met, it records nothing (no PASS the suite could
never lose); not met, or too close to call, the experiment is INCONCLUSIVE, never FAILED."""

from __future__ import annotations

from typing import Any

import pytest

from chaoskit.assertions import Inconclusive, LatencyMetric, RateMetric
from chaoskit.stats import Judgement


class Sink:
    def __init__(self) -> None:
        self.entries: list[Judgement] = []

    def add_judgement(
        self, window: str, judgement: Judgement, predicted: Any = None, hint: str = ""
    ) -> None:
        self.entries.append(judgement)


def test_a_met_precondition_records_nothing() -> None:
    sink = Sink()
    RateMetric(100, 100, "pages that answered", "w", sink).precondition_at_least(0.9, "why")
    LatencyMetric([0.2] * 50, 0.5, "w", sink).precondition_at_least("100ms", "the fault acted")
    assert sink.entries == []


@pytest.mark.parametrize("answered", [50, 88])  # clearly below, and too close to call
def test_an_unmet_precondition_is_inconclusive_and_says_what_was_presumed(answered: int) -> None:
    sink = Sink()
    metric = RateMetric(answered, 100, "pages that answered", "w", sink)
    with pytest.raises(Inconclusive) as raised:
        metric.precondition_at_least(0.9, "text shares presume pages that answered")
    (entry,) = sink.entries
    assert entry.inconclusive
    assert entry.reason.startswith("precondition not met: text shares presume pages that answered")
    assert "INCONCLUSIVE (precondition not met" in str(raised.value)


def test_an_unmet_latency_precondition_is_inconclusive() -> None:
    sink = Sink()
    with pytest.raises(Inconclusive, match="precondition not met: the fault acted"):
        LatencyMetric([0.01] * 50, 0.5, "w", sink).precondition_at_least("100ms", "the fault acted")
    assert [e.verdict.value for e in sink.entries] == ["INCONCLUSIVE"]
