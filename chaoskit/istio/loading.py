"""Load Istio resources from YAML files and directories, with located, fixable problems.

``load_files`` never raises on bad input: it returns every problem it found, each naming
the file, the document, the line, the dotted field path, what was wrong and how to fix
it. ``load_resources`` is the strict form for code that needs valid resources or an error.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pydantic
import yaml

from chaoskit.errors import Problem, ResourceLoadError, ResourceValidationError
from chaoskit.istio._base import IstioModel
from chaoskit.istio.resources import LOADABLE_TYPES, IstioResource
from chaoskit.istio.validation import validate_resource
from chaoskit.istio.yaml_source import (
    LOAD_ERROR_CODE,
    YamlDocument,
    collect_files,
    join_path,
    parse_documents,
    read_text,
)

SCHEMA_ERROR_CODE = "IST0106"
# istioctl reports the webhook's warnings as SchemaWarning (analyzers/schema/validation.go).
SCHEMA_WARNING_CODE = "IST0133"
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True, slots=True)
class LoadedResource:
    """A valid resource and where it came from."""

    resource: IstioResource
    document: YamlDocument
    default_namespace: str = DEFAULT_NAMESPACE

    @property
    def kind(self) -> str:
        return self.resource.kind

    @property
    def name(self) -> str:
        return self.resource.metadata.name

    @property
    def namespace(self) -> str:
        return self.resource.metadata.namespace or self.default_namespace

    @property
    def source(self) -> str:
        return self.document.source

    def line_of(self, path: str) -> int:
        return self.document.line_of(path)

    def problem(
        self, path: str, message: str, *, code: str, level: str = "Error", fix: str = ""
    ) -> Problem:
        """A problem located at ``path`` of this resource."""
        return Problem(
            source=self.source,
            document=self.document.index,
            line=self.line_of(path),
            path=path,
            message=message,
            kind=self.kind,
            name=f"{self.namespace}/{self.name}",
            code=code,
            level=level,
            fix=fix,
        )


@dataclass(slots=True)
class LoadResult:
    """Valid ``resources``, every ``problems``, and what the analyzers still see.

    ``analyzable`` holds, in input order, every resource that could be read, including those
    with schema errors. istioctl's file source stores without validating
    (istio/istio 1.28.10 ``pilot/pkg/config/file/store.go``: ``NewKubeSource`` uses
    ``memory.MakeSkipValidation``), so its schema analyzer reports IST0106 while the other
    analyzers still see the resource. Its ``TranslateObject`` decodes with Kubernetes'
    ``DefaultUnstructuredConverter``, which ignores unknown fields: so do we, for analysis.
    """

    resources: list[LoadedResource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    analyzable: list[LoadedResource] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        self.resources += other.resources
        self.problems += other.problems
        self.analyzable += other.analyzable


def load_files(
    paths: Iterable[str | Path],
    *,
    default_namespace: str = DEFAULT_NAMESPACE,
    recursive: bool = False,
) -> LoadResult:
    """Load every resource in ``paths`` (files or directories) and collect all problems."""
    result = LoadResult()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            result.problems.append(
                Problem(
                    str(path),
                    1,
                    None,
                    "",
                    "no such file or directory",
                    code=LOAD_ERROR_CODE,
                    fix="check the path",
                )
            )
            continue
        files = collect_files(path, recursive=recursive)
        if path.is_dir() and not files:
            result.problems.append(
                Problem(
                    str(path),
                    1,
                    None,
                    "",
                    "directory holds no .yaml, .yml or .json files",
                    code=LOAD_ERROR_CODE,
                    fix="pass files or a directory that holds them"
                    + ("" if recursive else ", or add --recursive to look in subdirectories"),
                )
            )
        for file in files:
            result.extend(load_file(file, default_namespace=default_namespace))
    return result


def load_file(path: Path, *, default_namespace: str = DEFAULT_NAMESPACE) -> LoadResult:
    text, problems = read_text(path)
    if text is None:
        return LoadResult(problems=[_as_load_problem(p) for p in problems])
    return load_text(text, str(path), default_namespace=default_namespace)


def load_text(
    text: str, source: str = "<string>", *, default_namespace: str = DEFAULT_NAMESPACE
) -> LoadResult:
    """Load resources from YAML text (one or more documents)."""
    documents, problems = parse_documents(text, source)
    result = LoadResult(problems=[_as_load_problem(p) for p in problems])
    for document in documents:
        result.extend(load_document(document, default_namespace=default_namespace))
    return result


def load_document(
    document: YamlDocument, *, default_namespace: str = DEFAULT_NAMESPACE
) -> LoadResult:
    """Turn one parsed YAML document into a validated resource, or into located problems."""
    data = document.data
    if not isinstance(data, dict):
        return _document_problem(
            document,
            "",
            f"document is a {_yaml_type(data)}, not a mapping; each YAML document must be one "
            "object with apiVersion, kind, metadata and spec",
        )
    kind, api_version = data.get("kind"), data.get("apiVersion")
    resource_type = LOADABLE_TYPES.get(kind) if isinstance(kind, str) else None
    if resource_type is None:
        return _document_problem(document, "kind", _unknown_kind_message(kind))
    group = resource_type.group
    if api_version not in {f"{group}/{v}" for v in resource_type.api_versions}:
        versions = ", ".join(f"{group}/{v}" for v in resource_type.api_versions)
        return _document_problem(
            document,
            "apiVersion",
            f"apiVersion {api_version!r} is not served for {kind}; use one of {versions}",
        )
    try:
        resource = resource_type.model_validate(data)
    except pydantic.ValidationError as exc:
        result = LoadResult(problems=list(_schema_problems(document, resource_type, data, exc)))
        lenient = _without_unknown_fields(resource_type, data, exc)
        if lenient is not None:
            result.analyzable.append(LoadedResource(lenient, document, default_namespace))
        return result
    loaded = LoadedResource(resource, document, default_namespace)
    findings = validate_resource(resource)
    result = LoadResult(
        problems=[
            loaded.problem(
                f.path,
                f"Schema validation error: {f.message}"
                if f.level == "Error"
                else f"Schema validation warning: {f.message}",
                code=SCHEMA_ERROR_CODE if f.level == "Error" else SCHEMA_WARNING_CODE,
                level=f.level,
                fix=f.fix,
            )
            for f in findings
        ],
        analyzable=[loaded],
    )
    if not any(f.level == "Error" for f in findings):
        result.resources.append(loaded)
    return result


def _without_unknown_fields(
    resource_type: type[IstioResource], data: dict[str, Any], exc: pydantic.ValidationError
) -> IstioResource | None:
    """The resource with its unknown fields dropped, if those were its only shape errors."""
    errors = exc.errors(include_url=False)
    if any(e["type"] != "extra_forbidden" for e in errors):
        return None
    pruned = copy.deepcopy(data)
    for error in errors:
        *parents, last = error["loc"]
        node: Any = pruned
        for part in parents:
            node = node[part]
        node.pop(last, None)
    try:
        return resource_type.model_validate(pruned)
    except pydantic.ValidationError:
        return None


def load_resources(
    paths: Iterable[str | Path] | str | Path, *, default_namespace: str = DEFAULT_NAMESPACE
) -> list[LoadedResource]:
    """Load resources or raise one error listing every problem (warnings are not problems)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    result = load_files(paths, default_namespace=default_namespace)
    errors = [p for p in result.problems if p.level == "Error"]
    if any(p.code == LOAD_ERROR_CODE for p in errors):
        raise ResourceLoadError(errors)
    if errors:
        raise ResourceValidationError(errors)
    return result.resources


def dump_resources(resources: Sequence[IstioResource | LoadedResource]) -> str:
    """Multi-document YAML for ``resources``, with Istio's field names and only given fields."""
    docs = [(r.resource if isinstance(r, LoadedResource) else r).to_yaml_dict() for r in resources]
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)


# --- messages --------------------------------------------------------------------------------


def _as_load_problem(problem: Problem) -> Problem:
    return Problem(
        problem.source,
        problem.document,
        problem.line,
        problem.path,
        problem.message,
        code=LOAD_ERROR_CODE,
        fix=problem.fix,
    )


def _document_problem(document: YamlDocument, path: str, message: str) -> LoadResult:
    """A CK0001 problem for a whole document; ``message`` reads "what is wrong; how to fix"."""
    what, _, fix = message.partition("; ")
    data = _mapping(document.data)
    metadata = _mapping(data.get("metadata"))
    line = document.line_of(path) if path else document.start_line
    return LoadResult(
        problems=[
            Problem(
                document.source,
                document.index,
                line,
                path,
                what,
                kind=str(data.get("kind") or ""),
                name=str(metadata.get("name") or ""),
                code=LOAD_ERROR_CODE,
                fix=fix,
            )
        ]
    )


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _yaml_type(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _unknown_kind_message(kind: object) -> str:
    known = ", ".join(LOADABLE_TYPES)
    if kind is None:
        return f"document has no 'kind'; add one of {known}"
    hint = difflib.get_close_matches(str(kind), list(LOADABLE_TYPES), n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown kind {kind!r}{suggestion}; chaoskit understands {known}"


def _schema_problems(
    document: YamlDocument,
    resource_type: type[IstioResource],
    data: dict[str, Any],
    exc: pydantic.ValidationError,
) -> Iterable[Problem]:
    kind = str(data.get("kind"))
    metadata = _mapping(data.get("metadata"))
    name = str(metadata.get("name") or "")
    namespace = str(metadata.get("namespace") or DEFAULT_NAMESPACE)
    for error in exc.errors(include_url=False):
        path = _loc_to_path(error["loc"])
        message, fix = _explain(error, resource_type)
        yield Problem(
            source=document.source,
            document=document.index,
            line=document.line_of(path),
            path=path,
            message=f"Schema validation error: {message}",
            kind=kind,
            name=f"{namespace}/{name}",
            code=SCHEMA_ERROR_CODE,
            fix=fix,
        )


def _loc_to_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        # pydantic adds internal tags such as "function-plain[parse()]" for custom types.
        if isinstance(part, str) and ("[" in part or "(" in part):
            continue
        path = join_path(path, part)
    return path


def _explain(error: Any, resource_type: type[IstioResource]) -> tuple[str, str]:
    """What is wrong with the shape of a field, and how to fix it.

    Istio's CRD schema (the API server, on ``kubectl apply``) and jsonpb refuse these before
    the webhook runs; istioctl analyze itself drops unknown fields silently.
    """
    kind, value, message = str(error["type"]), error.get("input"), str(error["msg"])
    loc = [p for p in error["loc"] if isinstance(p, str)]
    field_name = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        # Suggest a field of the message the unknown one sits in, never the name itself:
        # `abort: {percent: 50}` is not fixed by 'percent' (a field of `delay` only).
        siblings = _fields_at(resource_type, error["loc"][:-1])
        candidates = {
            n.lower(): n for n in siblings or _known_field_names() if n != field_name
        }  # compared case-blind, so 'matchLabels' finds 'labels'
        hint = [
            candidates[h] for h in difflib.get_close_matches(field_name.lower(), candidates, n=1)
        ]
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        return (
            f"unknown field {field_name!r}{suggestion}",
            "Istio's CRD schema rejects unknown fields (kubectl apply refuses them); check the "
            "spelling against the Istio reference (names are camelCase)",
        )
    if kind == "missing":
        return f"field {field_name!r} is required", f"add {field_name!r}"
    if kind == "literal_error":
        expected = message.removeprefix("Input should be ")
        return f"{value!r} is not allowed here: {expected}", f"use one of {expected}"
    if kind == "value_error":
        text = message.removeprefix("Value error, ")
        if "duration" in text:
            return text, "write a Go duration: a number and a unit, e.g. '500ms', '5s' or '1m30s'"
        what, _, how = text.rpartition("; ")
        return (what, how) if what else (text, "correct the field")
    expected = message.removeprefix("Input should be ")
    return f"expected {expected}, got {value!r}", f"write {field_name or 'it'} as {expected}"


def _fields_at(model: type[pydantic.BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """The wire names of the fields of the message at ``loc`` (None if it is not one)."""
    current: Any = model
    for part in loc:
        if isinstance(part, str) and ("[" in part or "(" in part):
            continue  # pydantic's tags for custom types, not a field
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(part, int) and origin is list:
            current = typing.get_args(current)[0]
        elif origin is dict:
            current = typing.get_args(current)[1]
        elif isinstance(current, type) and issubclass(current, pydantic.BaseModel):
            by_wire = {info.alias or name: info for name, info in current.model_fields.items()}
            info = by_wire.get(str(part)) or current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` as ``X`` (the message type of a union, if any)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
            annotation = (models or args)[0]
        else:
            return annotation


@lru_cache(maxsize=1)
def _known_field_names() -> list[str]:
    names: set[str] = set()
    pending: list[type[pydantic.BaseModel]] = [IstioModel, *LOADABLE_TYPES.values()]
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        for name, info in cls.model_fields.items():
            names.add(info.alias or name)
    return sorted(names)
