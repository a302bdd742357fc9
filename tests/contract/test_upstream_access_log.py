"""JSON access-log lines as Envoy writes them, read by the cluster path's parser.

``tests/data/upstream/envoy/access-log/expectations.json`` holds what Envoy's own tests
expect of a ``json_format`` value (see the README there): one command keeps its type, a
command without a value is ``null``, no flag is ``-``. The ``.jsonl`` fixtures are lines in
chaoskit's format and in Istio's default format; each is checked against those rules
before the parser reads it, so a fixture cannot drift into a shape Envoy never writes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chaoskit.cluster.accesslog import ACCESS_LOG_FORMAT, normalise, parse_log
from chaoskit.mesh.envoy_format import COMMANDS, ISTIO_JSON_FORMAT, json_line
from tests.contract.upstream import UPSTREAM

ACCESS = UPSTREAM / "envoy" / "access-log"
EXPECTATIONS = json.loads((ACCESS / "expectations.json").read_text())
LINES = [json.loads(line) for line in (ACCESS / "chaoskit-format.jsonl").read_text().splitlines()]
ISTIO_LINES = (ACCESS / "istio-default-format.jsonl").read_text().splitlines()
NULLABLE = sorted(field for field, kind in COMMANDS.values() if kind.endswith("|null"))


def _json_type(value: Any) -> str:
    return {type(None): "null", int: "number", str: "string"}[type(value)]


def _allowed(kind: str) -> set[str]:
    return set(kind.split("|"))


@pytest.mark.parametrize(
    "case", EXPECTATIONS["commands"], ids=lambda c: f"{c['command']}-{c['given']}"
)
def test_envoys_expectation_fits_the_formatter_rule(case: dict[str, Any]) -> None:
    """Each transcribed upstream expectation is a type our rule for that command allows."""
    _field, kind = COMMANDS[case["command"]]
    assert _json_type(case["value"]) in _allowed(kind), (case, kind)


def test_absent_values_are_null_only_where_envoy_writes_null() -> None:
    """RESPONSE_CODE and the attempt count are 0 without a value; details and hosts null."""
    for case in EXPECTATIONS["commands"]:
        if case["given"].startswith("no "):
            _field, kind = COMMANDS[case["command"]]
            expected = None if kind.endswith("|null") else (0 if kind == "number" else "-")
            assert case["value"] == expected, case


@pytest.mark.parametrize("case", EXPECTATIONS["integration"], ids=lambda c: c["test"])
def test_the_embedded_renderer_writes_what_envoys_integration_tests_expect(
    case: dict[str, Any],
) -> None:
    """The embedded mesh renders these commands as Envoy's local-reply tests expect: the
    user agent absent (null), code 503 (a number), flag UC (a string)."""
    record = {"user_agent": "-", "response_code": 503, "response_flags": "UC"}
    ours = {k: v for k, v in case["json_format"].items() if v.strip("%") in COMMANDS}
    assert ours, case
    rendered = json.loads(json_line(ours, record))
    assert rendered == {k: case["expected"][k] for k in ours}


@pytest.mark.parametrize("index", range(len(LINES)))
def test_fixture_lines_have_the_types_envoy_writes(index: int) -> None:
    line = LINES[index]
    assert list(line) == sorted(ACCESS_LOG_FORMAT)  # every key, sorted as Envoy writes them
    for command, (field, kind) in COMMANDS.items():
        assert _json_type(line[field]) in _allowed(kind), (command, line[field])


def _kubectl_log(entries: list[dict[str, Any]]) -> str:
    """``kubectl logs --timestamps`` output: the kubelet's RFC 3339 stamp, then the line."""
    return "".join(
        f"2026-12-03T09:00:{10 + i:02d}.000000001Z {json.dumps(e, separators=(',', ':'))}\n"
        for i, e in enumerate(entries)
    )


def _absent(kind: str) -> Any:
    return 0 if kind.startswith("number") else "-"


def test_the_parser_reads_every_fixture_line() -> None:
    _newest, records = parse_log(_kubectl_log(LINES), after=0.0)
    assert len(records) == len(LINES)
    for line, record in zip(LINES, records, strict=True):
        for field, kind in COMMANDS.values():
            value = line[field]
            assert record[field] == (_absent(kind) if value is None else value), field
        inbound = str(line["upstream_cluster"]).startswith("inbound|")
        assert record["direction"] == ("inbound" if inbound else "outbound")
        assert record["start_ts"] > 0


@pytest.mark.parametrize("field", NULLABLE)
def test_null_in_any_field_the_parser_reads(field: str) -> None:
    """Envoy writes ``null`` for any of these; the record then carries the embedded mesh's
    absent value, and every other field is untouched."""
    line = dict(LINES[0], **{field: None})
    _newest, (record,) = parse_log(_kubectl_log([line]), after=0.0)
    kind = dict(COMMANDS.values())[field]
    assert record[field] == _absent(kind)
    assert type(record[field]) is type(_absent(kind))
    for other, other_kind in COMMANDS.values():
        if other != field:
            assert record[other] == (
                line[other] if line[other] is not None else _absent(other_kind)
            )


def test_lines_in_istios_default_format_are_read_without_the_fields_it_lacks() -> None:
    """Istio falls back to its own JSON format when accessLogFormat does not parse: the line
    is still an access entry, without ``duration_ms`` and ``attempts`` (the doctor names them)."""
    (entry,) = [json.loads(line) for line in ISTIO_LINES]
    assert set(entry) == set(ISTIO_JSON_FORMAT)
    assert sorted(set(ACCESS_LOG_FORMAT) - set(entry)) == ["attempts", "duration_ms"]
    record = normalise(entry)
    assert record["response_code"] == 200
    assert record["x_forwarded_for"] == "-"
    assert record["direction"] == "inbound"
