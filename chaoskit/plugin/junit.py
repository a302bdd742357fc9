"""JUnit XML that keeps the four outcomes apart.

pytest's ``junitxml`` writes every failure in a test body as ``<failure>``, so a broken
experiment (a config typo) and one without enough data look like a mesh that is not
resilient. After pytest has written the file, each experiment's test case is rewritten
from its outcome:

- FAILED stays ``<failure>``: the hypothesis was refuted on evidence;
- ERROR becomes ``<error>``: the experiment never reached a verdict;
- INCONCLUSIVE becomes ``<skipped type="chaoskit.inconclusive">`` whose message says how
  many requests would decide it: CI systems show a skip as neither pass nor failure;
- every case carries a ``chaoskit.outcome`` property with the outcome's name.

The suite's ``failures``/``errors``/``skipped`` counts are recounted to match.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

OUTCOME_PROPERTY = "chaoskit.outcome"
INCONCLUSIVE_TYPE = "chaoskit.inconclusive"
_EXPERIMENT_PROPERTY = "chaoskit.experiment"
_PROBLEMS = ("failure", "error")


def rewrite(path: Path, summaries: dict[str, str]) -> None:
    """Rewrite the JUnit XML at ``path`` in place. ``summaries`` maps an experiment's node
    id to the line the terminal shows for it (the skip message of an inconclusive one)."""
    tree = ET.parse(path)
    root = tree.getroot()
    for case in root.iter("testcase"):
        experiment = _experiment(case)
        if experiment is not None:
            _rewrite_case(case, experiment, summaries.get(str(experiment.get("id")), ""))
    for suite in root.iter("testsuite"):
        _recount(suite)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _experiment(case: ET.Element) -> dict[str, object] | None:
    for prop in case.iter("property"):
        if prop.get("name") == _EXPERIMENT_PROPERTY:
            found = json.loads(prop.get("value") or "{}")
            return found if isinstance(found, dict) else None
    return None


def _rewrite_case(case: ET.Element, experiment: dict[str, object], summary: str) -> None:
    outcome = str(experiment.get("outcome", ""))
    properties = case.find("properties")
    if properties is None:
        properties = ET.SubElement(case, "properties")
    ET.SubElement(properties, "property", name=OUTCOME_PROPERTY, value=outcome)
    problems = [child for child in case if child.tag in _PROBLEMS]
    if outcome == "error":
        for child in problems:
            child.tag = "error"
    elif outcome == "inconclusive" and problems:
        details = "\n".join(child.text or "" for child in problems)
        for child in problems:
            case.remove(child)
        skipped = ET.SubElement(
            case,
            "skipped",
            type=INCONCLUSIVE_TYPE,
            message=summary or str(experiment.get("message", ""))[:2000],
        )
        skipped.text = details


def _recount(suite: ET.Element) -> None:
    cases = list(suite.iter("testcase"))
    for attribute, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        if attribute in suite.attrib:
            suite.set(attribute, str(sum(len(case.findall(tag)) for case in cases)))
