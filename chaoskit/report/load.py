"""Read ``results.json`` files (schema ``chaoskit.results/1``) and check their shape.

Renderers index the parsed dicts directly, so every key they read is checked here once,
with its type; a problem is a :class:`~chaoskit.errors.ConfigError` that names the file
and the place (``experiments[2].windows[0].summary: missing key 'n'``). Unknown keys are
ignored, as ``docs/results-schema.md`` asks of readers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chaoskit.errors import ConfigError

SCHEMA = "chaoskit.results/1"

# A spec is a tuple of accepted types (a leaf), a dict of required keys, a one-item list
# (a list of that spec) or a _Map (an object with free keys, all values of one spec).
_NUM = (int, float)
_OPT_NUM = (int, float, type(None))
_STR = (str,)
_OPT_STR = (str, type(None))
_OPT_DICT = (dict, type(None))


class _Map:
    def __init__(self, values: object) -> None:
        self.values = values


_LOAD = {"model": _STR, "users": _OPT_NUM, "rate": _OPT_NUM, "duration_s": _OPT_NUM}
_SUMMARY = {
    "n": (int,),
    "ok": (int,),
    "success_rate": _OPT_NUM,
    "throughput_rps": _OPT_NUM,
    "latency_s": {"p50": _OPT_NUM, "p90": _OPT_NUM, "p99": _OPT_NUM, "max": _OPT_NUM},
    "late": (int,),
    "statuses": _Map((int,)),
    "flags": _Map((int,)),
    "versions": _Map((int,)),
}
_POINT = {"t": _NUM, "n": (int,), "errors": (int,), "p50": _OPT_NUM, "p99": _OPT_NUM}
_WINDOW = {
    "label": _STR,
    "start": _NUM,
    "end": _NUM,
    "load": _LOAD,
    "summary": _SUMMARY,
    "series": [_POINT],
}
_FAULT = {
    "kind": _STR,
    "description": _STR,
    "target": _OPT_STR,
    "yaml": _OPT_STR,
    "applied": _OPT_NUM,
    "removed": _OPT_NUM,
    "proof": _OPT_DICT,
}
_ASSERTION = {
    "window": _OPT_STR,
    "verdict": _STR,
    "subject": _STR,
    "observed": _OPT_NUM,
    "n": (int, type(None)),
    "explanation": _STR,
    "predicted": _OPT_DICT,
}
_EJECTION = {"observer": _STR, "cluster": _STR, "host": _STR, "start": _NUM, "end": _OPT_NUM}
_EXPERIMENT = {
    "id": _STR,
    "name": _STR,
    "file": _STR,
    "hypothesis": _STR,
    "outcome": _STR,
    "message": _STR,
    "started": _OPT_NUM,
    "duration_s": _OPT_NUM,
    "faults": [_FAULT],
    "windows": [_WINDOW],
    "assertions": [_ASSERTION],
    "ejections": [_EJECTION],
    "stat_deltas": _Map(_Map(_NUM)),
}
_RUN = {
    "id": _STR,
    "started": _NUM,
    "finished": _OPT_NUM,
    "duration_s": _OPT_NUM,
    "interrupted": (bool,),
    "mesh": {
        "backend": _STR,
        "istio_version": _OPT_STR,
        "context": _OPT_STR,
        "ingress": _OPT_STR,
    },
    "seed": (int, str, type(None)),
    "duration_scale": _OPT_NUM,
    "chaoskit_version": _OPT_STR,
    "git_commit": _OPT_STR,
    "python": _OPT_STR,
    "argv": [_STR],
}
_RESULTS = {"schema": _STR, "run": _RUN, "experiments": [_EXPERIMENT]}

OUTCOMES = ("held", "failed", "inconclusive", "error", "skipped")


def _type_names(types: tuple[type, ...]) -> str:
    names = {
        int: "integer",
        float: "number",
        str: "string",
        bool: "true/false",
        dict: "object",
        type(None): "null",
    }
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


def _check(value: object, spec: object, where: str) -> None:
    if isinstance(spec, tuple):
        # JSON true/false parse as bool, a subclass of int: not a count or a time.
        if isinstance(value, bool) and bool not in spec:
            raise ValueError(f"{where}: expected {_type_names(spec)}, got {value!r}")
        if not isinstance(value, spec):
            raise ValueError(f"{where}: expected {_type_names(spec)}, got {_json_type(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a finite number")
    elif isinstance(spec, dict):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {_json_type(value)}")
        for key, sub in spec.items():
            if key not in value:
                raise ValueError(f"{where}: missing key {key!r}")
            _check(value[key], sub, f"{where}.{key}")
    elif isinstance(spec, list):
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {_json_type(value)}")
        for i, item in enumerate(value):
            _check(item, spec[0], f"{where}[{i}]")
    elif isinstance(spec, _Map):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {_json_type(value)}")
        for key, item in value.items():
            _check(item, spec.values, f"{where}[{key!r}]")
    else:  # pragma: no cover - the specs above are the only ones
        raise TypeError(f"bad spec at {where}")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


def check_results(data: object, source: str = "<results>") -> dict[str, Any]:
    """``data`` itself if it has the shape of ``chaoskit.results/1``; else a ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object at the top, got {_json_type(data)}")
    if "schema" not in data:
        raise ConfigError(
            f"{source}: missing key 'schema' (expected {SCHEMA!r}); is this a chaoskit "
            "results.json?"
        )
    if data["schema"] != SCHEMA:
        raise ConfigError(
            f"{source}: schema is {data['schema']!r}, but this chaoskit reads {SCHEMA!r}"
        )
    try:
        _check(data, _RESULTS, "results")
        for i, experiment in enumerate(data["experiments"]):
            if experiment["outcome"] not in OUTCOMES:
                raise ValueError(
                    f"results.experiments[{i}].outcome: {experiment['outcome']!r} is not one "
                    f"of {', '.join(OUTCOMES)}"
                )
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return data


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON (numbers must be finite)")


def load_results(path: str | Path) -> dict[str, Any]:
    """Parse and check one results file; every problem is a ConfigError naming the file."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"{source}: not JSON: {exc}") from None
    return check_results(data, source)


def ran_an_experiment(run: Mapping[str, Any]) -> bool:
    """False for a run that executed nothing (refused by the context guard, or every
    experiment skipped): such a run is no point of comparison in a history."""
    return any(e.get("outcome") != "skipped" for e in run.get("experiments") or [])


def load_history(directory: str | Path) -> list[dict[str, Any]]:
    """Every ``*/results.json`` under ``directory`` of a run that executed an experiment,
    oldest run first (by ``run.started``)."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory (--history wants the reports directory)")
    # ``latest`` is a link to one of the runs: reading it too would count that run twice.
    paths = sorted(p for p in root.glob("*/results.json") if not p.parent.is_symlink())
    if not paths:
        raise ConfigError(f"{root}: no */results.json found (one run per subdirectory)")
    runs = [run for run in (load_results(path) for path in paths) if ran_an_experiment(run)]
    if not runs:
        raise ConfigError(f"{root}: no run there executed an experiment")
    return sorted(runs, key=lambda run: (run["run"]["started"], run["run"]["id"]))
