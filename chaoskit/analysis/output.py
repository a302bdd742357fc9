"""Print analysis results as istioctl does: log lines, or JSON/YAML for machines."""

from __future__ import annotations

import json
from typing import Any

import yaml

from chaoskit.analysis.analyzer import AnalysisResult
from chaoskit.analysis.messages import Level, Message

# istioctl exits 79 when the analyzers found issues at or above --failure-threshold,
# and 2 when its input could not be read (istioctl/pkg/analyze: FileParseError).
EXIT_ISSUES_FOUND = 79
EXIT_FILE_PARSE_ERROR = 2


def message_record(message: Message) -> dict[str, Any]:
    """The JSON shape of istioctl's ``-o json``, plus chaoskit's location and fix fields."""
    origin = f"{message.kind} {message.resource}".strip()
    return {
        "code": message.type.code,
        "documentationUrl": message.type.documentation_url,
        "level": message.level.label,
        "message": message.text,
        "origin": origin,
        "reference": f"{message.source}:{message.line}" if message.source else None,
        "source": message.source,
        "document": message.document,
        "line": message.line,
        "path": message.path,
        "fix": message.fix,
    }


def render(result: AnalysisResult, *, fmt: str, output_threshold: Level) -> str:
    shown = result.at_least(output_threshold)
    if fmt == "json":
        return json.dumps([message_record(m) for m in shown], indent=2)
    if fmt == "yaml":
        return yaml.safe_dump([message_record(m) for m in shown], sort_keys=False)
    if not shown:
        scope = ", ".join(result.namespaces) or "default"
        noun = "namespace" if len(result.namespaces) <= 1 else "namespaces"
        return f"\u2714 No validation issues found when analyzing {noun}: {scope}."
    return "\n".join(m.format() for m in shown)


def exit_code(result: AnalysisResult, *, failure_threshold: Level) -> int:
    if any(m.type.code == "CK0001" for m in result.messages):
        return EXIT_FILE_PARSE_ERROR
    return EXIT_ISSUES_FOUND if result.failed(failure_threshold) else 0
