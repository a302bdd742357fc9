"""Print analysis results as istioctl does: log lines, or JSON/YAML for machines."""

from __future__ import annotations

import json
from typing import Any

import yaml

from chaoskit.analysis.analyzer import AnalysisResult
from chaoskit.analysis.messages import Level, Message
from chaoskit.istio.yaml_source import LOAD_ERROR_CODE

# istioctl/cmd/sysexits.go: 79 when analyzers found issues at or above --failure-threshold,
# else 65 (ExitDataError) when some input could not be parsed. istioctl/pkg/analyze sets
# either only for the log format: with -o json or -o yaml it exits 0.
EXIT_ISSUES_FOUND = 79
EXIT_FILE_PARSE_ERROR = 65


def message_record(message: Message) -> dict[str, Any]:
    """istioctl's ``-o json`` record (diag.Message.Unstructured), plus chaoskit's fields.

    istioctl's keys come first in its (sorted) order; ``reference`` is left out when the
    message has no file, and carries no line for a ``.json`` file, as in istioctl.
    """
    record: dict[str, Any] = {
        "code": message.type.code,
        "documentationUrl": message.type.documentation_url,
        "level": message.level.label,
        "message": message.text,
        "origin": f"{message.kind} {message.resource}".strip(),
    }
    if message.source:
        json_file = message.source.endswith(".json")
        record["reference"] = (
            f"{message.source}:{message.line}" if message.line and not json_file else message.source
        )
    record.update(
        source=message.source,
        document=message.document,
        line=message.line,
        path=message.path,
        fix=message.fix,
    )
    return record


def render(result: AnalysisResult, *, fmt: str, output_threshold: Level) -> str:
    shown = result.at_least(output_threshold)
    if fmt == "json":
        return json.dumps([message_record(m) for m in shown], indent="\t", ensure_ascii=False)
    if fmt == "yaml":
        return yaml.safe_dump([message_record(m) for m in shown], sort_keys=False)
    if not shown:
        scope = ", ".join(result.namespaces) or "default"
        noun = "namespace" if len(result.namespaces) <= 1 else "namespaces"
        return f"\u2714 No validation issues found when analyzing {noun}: {scope}."
    return "\n".join(m.format() for m in shown)


def exit_code(result: AnalysisResult, *, failure_threshold: Level, fmt: str = "log") -> int:
    """istioctl's exit code: file-level load errors (CK0001) count as its parse errors."""
    if fmt != "log":
        return 0
    analysis = [m for m in result.messages if m.type.code != LOAD_ERROR_CODE]
    if any(m.level >= failure_threshold for m in analysis):
        return EXIT_ISSUES_FOUND
    if len(analysis) < len(result.messages):
        return EXIT_FILE_PARSE_ERROR
    return 0
