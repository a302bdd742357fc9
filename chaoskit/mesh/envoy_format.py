"""Envoy's access-log formatter for the commands chaoskit's records carry: JSON and text.

Istio hands ``meshConfig.accessLogFormat`` to Envoy as ``log_format.json_format`` when
``accessLogEncoding`` is JSON, and as ``text_format`` otherwise; an empty format, or a JSON
format that does not parse, gives Istio's own defaults (istio/istio 1.28.10
``pilot/pkg/model/telemetry_logging.go``: ``EnvoyJSONLogFormatIstio``, ``EnvoyTextLogFormat``,
``FileAccessLogFromMeshConfig``).

How Envoy renders a value (envoyproxy/envoy ``source/common/formatter/substitution_formatter.cc``,
``JsonFormatterImpl::formatSubstitution``; the expectations are in
``tests/data/upstream/envoy/access-log/``):

- a JSON value that is exactly one command keeps the command's type: a number for
  ``%RESPONSE_CODE%``, ``%BYTES_SENT%``, ``%DURATION%``..., a string for headers and
  addresses, and ``null`` when the command has no value (an absent header, no upstream host);
- a JSON value that mixes text and commands is a string, with ``-`` for an absent command;
- text format writes ``-`` for an absent command;
- JSON keys come out sorted.

``%RESPONSE_FLAGS%`` is never absent: no flag is the string ``-``. ``%RESPONSE_CODE%`` and
``%UPSTREAM_REQUEST_ATTEMPT_COUNT%`` are never absent either: no response is ``0``, no attempt
is ``0``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

ValueType = Literal["number", "number|null", "string", "string|null"]

# Each command chaoskit's records can answer: the record field, and Envoy's JSON type.
COMMANDS: dict[str, tuple[str, ValueType]] = {
    "START_TIME": ("start_time", "string"),
    "REQ(:METHOD)": ("method", "string|null"),
    "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)": ("path", "string|null"),
    "PROTOCOL": ("protocol", "string|null"),
    "RESPONSE_CODE": ("response_code", "number"),
    "RESPONSE_FLAGS": ("response_flags", "string"),
    "RESPONSE_CODE_DETAILS": ("response_code_details", "string|null"),
    "BYTES_RECEIVED": ("bytes_received", "number"),
    "BYTES_SENT": ("bytes_sent", "number"),
    "DURATION": ("duration_ms", "number|null"),
    "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)": ("upstream_service_time", "string|null"),
    "REQ(X-FORWARDED-FOR)": ("x_forwarded_for", "string|null"),
    "REQ(USER-AGENT)": ("user_agent", "string|null"),
    "REQ(X-REQUEST-ID)": ("request_id", "string|null"),
    "REQ(:AUTHORITY)": ("authority", "string|null"),
    "UPSTREAM_HOST": ("upstream_host", "string|null"),
    "UPSTREAM_CLUSTER_RAW": ("upstream_cluster", "string|null"),
    "ROUTE_NAME": ("route_name", "string|null"),
    "UPSTREAM_REQUEST_ATTEMPT_COUNT": ("attempts", "number"),
    "DOWNSTREAM_REMOTE_ADDRESS": ("downstream_remote_address", "string"),
}

# The format `chaoskit cluster up` configures (chaoskit/cluster/assets/istio-operator.yaml) and
# the embedded mesh's mesh config uses: its keys are the records' field names.
CHAOSKIT_FORMAT: dict[str, str] = {
    field: f"%{command}%" for command, (field, _) in COMMANDS.items()
}

# Istio 1.28.10's defaults (pilot/pkg/model/telemetry_logging.go).
ISTIO_JSON_FORMAT: dict[str, str] = {
    "start_time": "%START_TIME%",
    "route_name": "%ROUTE_NAME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "protocol": "%PROTOCOL%",
    "response_code": "%RESPONSE_CODE%",
    "response_flags": "%RESPONSE_FLAGS%",
    "response_code_details": "%RESPONSE_CODE_DETAILS%",
    "connection_termination_details": "%CONNECTION_TERMINATION_DETAILS%",
    "bytes_received": "%BYTES_RECEIVED%",
    "bytes_sent": "%BYTES_SENT%",
    "duration": "%DURATION%",
    "upstream_service_time": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    "x_forwarded_for": "%REQ(X-FORWARDED-FOR)%",
    "user_agent": "%REQ(USER-AGENT)%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "authority": "%REQ(:AUTHORITY)%",
    "upstream_host": "%UPSTREAM_HOST%",
    "upstream_cluster": "%UPSTREAM_CLUSTER_RAW%",
    "upstream_local_address": "%UPSTREAM_LOCAL_ADDRESS%",
    "downstream_local_address": "%DOWNSTREAM_LOCAL_ADDRESS%",
    "downstream_remote_address": "%DOWNSTREAM_REMOTE_ADDRESS%",
    "requested_server_name": "%REQUESTED_SERVER_NAME%",
    "upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
}
ISTIO_TEXT_FORMAT = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
    '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" '
    '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% '
    "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
    "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n"
)
_COMMAND = re.compile(r"%([A-Z0-9_]+(?:\([^)]*\))?(?::[0-9]+)?)%")


def _value(command: str, record: dict[str, Any]) -> Any:
    """The command's typed value, ``None`` when Envoy has none (or chaoskit keeps none)."""
    known = COMMANDS.get(command)
    if known is None:
        return None  # e.g. %UPSTREAM_LOCAL_ADDRESS%: not recorded by the embedded mesh
    field, kind = known
    value = record.get(field)
    if kind.startswith("number"):
        if value is None or value == "-":
            return 0 if kind == "number" else None
        return int(value)
    if value is None or (value == "-" and kind == "string|null"):
        return None
    return str(value)


def _text(command: str, record: dict[str, Any]) -> str:
    value = _value(command, record)
    return "-" if value is None else str(value)


def json_line(format_: dict[str, str], record: dict[str, Any]) -> str:
    """One access line as Envoy's ``json_format`` writes it (no trailing newline)."""
    entry: dict[str, Any] = {}
    for key in sorted(format_):
        template = format_[key]
        whole = _COMMAND.fullmatch(template)
        if whole is not None:
            entry[key] = _value(whole.group(1), record)
        else:
            entry[key] = _COMMAND.sub(lambda m: _text(m.group(1), record), template)
    return json.dumps(entry, separators=(",", ":"))


def text_line(format_: str, record: dict[str, Any]) -> str:
    """One access line as Envoy's ``text_format`` writes it (no trailing newline)."""
    return _COMMAND.sub(lambda m: _text(m.group(1), record), format_).rstrip("\n")


def line_for(mesh_config: dict[str, Any], record: dict[str, Any]) -> str:
    """The line a sidecar writes for ``record`` under this mesh config, as Istio configures
    Envoy from ``accessLogEncoding`` and ``accessLogFormat``."""
    format_text = str(mesh_config.get("accessLogFormat") or "")
    if str(mesh_config.get("accessLogEncoding") or "TEXT").upper() == "JSON":
        try:
            parsed = json.loads(format_text) if format_text else None
        except ValueError:
            parsed = None  # istiod logs the error and uses its default JSON format
        if not isinstance(parsed, dict):
            parsed = ISTIO_JSON_FORMAT
        return json_line({str(k): str(v) for k, v in parsed.items()}, record)
    return text_line(format_text or ISTIO_TEXT_FORMAT, record)
