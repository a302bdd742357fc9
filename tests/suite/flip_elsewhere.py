"""A pytest plugin (``-p tests.suite.flip_elsewhere``) that adds one operator,
``flip-elsewhere``: every config change of ``FLIPPED_ELSEWHERE``, for the checks no
mutation operator reliably flips. It exists for that test only; ``chaoskit mutate`` never
sees it."""

from __future__ import annotations

from chaoskit.experiment.mutations import OPERATORS, Operator
from tests.suite.test_mutation_score import FLIPPED_ELSEWHERE, Object


def _every_change(obj: Object) -> bool:
    return any([row.change(obj) for row in FLIPPED_ELSEWHERE])


OPERATORS["flip-elsewhere"] = Operator(
    _every_change, "the config changes of FLIPPED_ELSEWHERE", "removal"
)
